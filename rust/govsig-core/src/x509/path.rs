//! Path building (candidates, ranking, backtracking, budget) and validation of a candidate
//! path (RFC 5280 §6.1). Building finds candidate paths from a leaf to an anchor; each
//! complete candidate is then validated in clause order. When every candidate fails, the
//! most specific failure (highest [`Code::rank`]) is reported, naming the certificate.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::crypto::{CryptoError, SignatureScheme};
use crate::need::EvidenceNeed;
use crate::outcome::Code;
use crate::policy::{KeyUsageRule, Policy};
use crate::time::{to_rfc3339, UnixTime};
use crate::x509::cert::CertRef;
use crate::x509::name_constraints::{NameConstraints, NameConstraintsState, NcViolation};
use crate::x509::policy_graph::{PolicyError, PolicyState};
use crate::x509::{CertPool, TrustStore};
use govsig_asn1::x509::key_usage;

/// What a [`RevocationCheck`] records for one certificate, as far as path validation needs
/// to know: the window in which a verdict resting on it stays true. Path validation is
/// generic over it, so that x509 never names revocation's types (the injected check decides
/// what it records; `revocation::RevocationEvidence` is the one govsig uses).
pub trait RevocationRecord: Clone + std::fmt::Debug + Send + Sync {
    /// The last instant at which a cached verdict resting on this record may be reused
    /// (a CRL's or OCSP answer's nextUpdate, a revocation dated after the validation time).
    fn valid_until(&self) -> Option<UnixTime>;
    /// The first instant at which it holds, when evidence bounds it from below.
    fn valid_from(&self) -> Option<UnixTime>;
}

/// Why a path (or every candidate path) failed. `E` is what the injected revocation check
/// records per certificate (kept with a revocation verdict).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError<E> {
    pub code: Code,
    pub reason: String,
    /// Evidence that could change the verdict (revocation_unknown under hard-fail).
    pub needs: Vec<EvidenceNeed>,
    /// For a revocation verdict (`cert_revoked`, `cert_on_hold`): the path and the evidence
    /// that decided it, kept so that it can be handed back (DESIGN "Evidence is kept").
    pub decided_by: DecidedBy<E>,
}

/// The path and revocation evidence behind a revocation verdict. It is a record of the
/// verdict, not part of it: two errors compare equal whatever evidence they carry.
#[derive(Clone, Debug)]
pub struct DecidedBy<E>(pub Option<Arc<(Vec<CertRef>, Vec<E>)>>);

impl<E> Default for DecidedBy<E> {
    fn default() -> Self {
        DecidedBy(None)
    }
}

impl<E> PartialEq for DecidedBy<E> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<E> Eq for DecidedBy<E> {}

impl<E> PathError<E> {
    pub fn new(code: Code, reason: impl Into<String>) -> Self {
        PathError {
            code,
            reason: reason.into(),
            needs: Vec::new(),
            decided_by: DecidedBy::default(),
        }
    }
}

/// A validated path: `certs[0]` is the leaf, then intermediates upwards; `anchor` last.
#[derive(Clone, Debug)]
pub struct ValidPath<E> {
    pub certs: Vec<CertRef>,
    pub anchor: CertRef,
    /// The window in which every certificate on the path is valid: a cached result is
    /// reused only for validation times inside it.
    pub valid_from: UnixTime,
    pub valid_until: UnixTime,
    /// RFC 5280 §6.1.5 (g) / RFC 9618: the policies valid for this path that the user accepts.
    pub user_constrained_policy_set: Vec<String>,
    /// Revocation status of each non-anchor certificate, leaf first (empty when off).
    pub revocation: Vec<E>,
}

impl<E> ValidPath<E> {
    /// Leaf first, anchor last (the anchor once, even when the leaf is the anchor).
    pub fn chain(&self) -> Vec<CertRef> {
        let mut v = self.certs.clone();
        if v.last().map(|c| c.fingerprint) != Some(self.anchor.fingerprint) {
            v.push(Arc::clone(&self.anchor));
        }
        v
    }
}

/// Map a crypto failure on a certificate signature to an outcome.
pub fn crypto_code(e: &CryptoError) -> Code {
    Code::for_crypto_error(e, Code::CertSignatureInvalid)
}

/// Signature checks of (issuer, subject) pairs, shared by every document of a batch: a
/// chain edge is verified once, and so is a CRL's signature by its signer (keyed by the
/// CRL's fingerprint in place of the subject's).
pub struct EdgeCache<E> {
    map: RwLock<HashMap<EdgeKey, Result<(), PathError<E>>>>,
}

impl<E> Default for EdgeCache<E> {
    fn default() -> Self {
        EdgeCache {
            map: RwLock::new(HashMap::new()),
        }
    }
}

/// (signer fingerprint, subject fingerprint): a certificate or a CRL/OCSP response.
type EdgeKey = ([u8; 32], [u8; 32]);

impl<E: Clone> EdgeCache<E> {
    pub(crate) fn get(&self, k: &([u8; 32], [u8; 32])) -> Option<Result<(), PathError<E>>> {
        self.map.read().ok().and_then(|m| m.get(k).cloned())
    }

    pub(crate) fn put(&self, k: ([u8; 32], [u8; 32]), v: Result<(), PathError<E>>) {
        if let Ok(mut m) = self.map.write() {
            if m.len() > 1_000_000 {
                m.clear();
            }
            m.insert(k, v);
        }
    }
}

/// Everything path building needs for one leaf; `E` is what the injected revocation check
/// records per certificate.
pub struct PathContext<'a, E> {
    pub policy: &'a Policy,
    pub at: UnixTime,
    pub anchors: &'a TrustStore,
    pub pool: &'a CertPool,
    pub edges: &'a EdgeCache<E>,
    /// keyUsage the leaf must allow.
    pub leaf_key_usage: &'a KeyUsageRule,
    /// Revocation of every certificate of a candidate path (RFC 5280 §6.1.3 (a)(3), §6.3),
    /// injected by the caller (`revocation::RevocationChecker`).
    pub revocation: &'a dyn RevocationCheck<Record = E>,
}

/// Revocation of a complete candidate path, called by [`validate`] once the path has
/// passed §6.1: evidence per non-anchor certificate (leaf first), or why the path fails
/// (revoked, or undetermined under hard-fail). Implementations may validate other paths
/// (CRL signers, OCSP responders) with [`build_and_validate`] and a context of their own.
pub trait RevocationCheck: Sync {
    /// What the check records per certificate (held in [`ValidPath::revocation`] and in a
    /// revocation verdict's [`DecidedBy`]).
    type Record: RevocationRecord;

    fn check(
        &self,
        ctx: &PathContext<'_, Self::Record>,
        chain: &[CertRef],
        anchor: &CertRef,
    ) -> Result<Vec<Self::Record>, PathError<Self::Record>>;
}

struct Search<'a, 'c, E> {
    ctx: &'c PathContext<'a, E>,
    signature_checks: usize,
    paths_tried: usize,
    best: Option<PathError<E>>,
    /// Certificates the search reached but found no issuer for, among the anchors or the
    /// pool: their caIssuers URLs become needs when no path is found.
    dead_ends: Vec<CertRef>,
}

/// Builds a path from `leaf` to a trust anchor and validates it.
pub fn build_and_validate<E: RevocationRecord>(
    ctx: &PathContext<'_, E>,
    leaf: &CertRef,
) -> Result<ValidPath<E>, PathError<E>> {
    let mut s = Search {
        ctx,
        signature_checks: 0,
        paths_tried: 0,
        best: None,
        dead_ends: Vec::new(),
    };
    // A leaf that is itself an anchor is trusted directly (its validity and key usage are
    // still checked, since here it acts as the end entity).
    if ctx.anchors.contains(&leaf.fingerprint) {
        s.paths_tried += 1;
        return validate(ctx, &[Arc::clone(leaf)], leaf);
    }
    let mut chain = vec![Arc::clone(leaf)];
    match s.extend(&mut chain) {
        Ok(Some(p)) => Ok(p),
        Ok(None) => {
            let mut e = s.best.take().unwrap_or_else(|| no_issuer_error(leaf, &s.dead_ends));
            e.needs.extend(issuer_needs(&s.dead_ends));
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// Why no path was found when no candidate path failed a check: the issuer of a
/// certificate could not be found, or the search ended at a self-issued certificate that is
/// not an anchor.
fn no_issuer_error<E>(leaf: &CertRef, dead_ends: &[CertRef]) -> PathError<E> {
    let reason = match dead_ends
        .iter()
        .find(|c| c.is_self_issued() && c.fingerprint != leaf.fingerprint)
    {
        Some(root) => format!(
            "no path to a trust anchor: the path from {} ends at self-issued {}, which is not a trust anchor",
            leaf.describe(),
            root.describe()
        ),
        _ => {
            let top = dead_ends.iter().find(|c| !c.is_self_issued()).unwrap_or(leaf);
            let above = if top.fingerprint == leaf.fingerprint {
                String::new()
            } else {
                format!(" on the path of {}", leaf.describe())
            };
            format!(
                "no path to a trust anchor: no issuer named '{}' found for {}{above}",
                top.issuer,
                top.describe()
            )
        }
    };
    PathError::new(Code::ChainUntrusted, reason)
}

/// What could complete a path that lacks an issuer: the caIssuers URLs (RFC 5280 §4.2.2.1)
/// of each certificate the search found no issuer for. A self-issued certificate names
/// none: its issuer is itself, and what it points at cannot make it an anchor.
fn issuer_needs(dead_ends: &[CertRef]) -> Vec<EvidenceNeed> {
    let mut v: Vec<EvidenceNeed> = dead_ends
        .iter()
        .filter(|c| !c.is_self_issued())
        .flat_map(|c| c.ca_issuers_urls())
        .map(|url| EvidenceNeed::Issuer { url })
        .collect();
    v.sort();
    v.dedup();
    v
}

impl<E: RevocationRecord> Search<'_, '_, E> {
    fn record(&mut self, e: PathError<E>) {
        let better = match &self.best {
            None => true,
            Some(b) => e.code.rank() > b.code.rank(),
        };
        if better {
            self.best = Some(e);
        }
    }

    /// Issuer candidates in the order to try: the AKI keyIdentifier equal to the candidate's
    /// SKI first, then candidates that cannot be told apart. A candidate whose SKI differs
    /// from the child's AKI keyIdentifier is not its issuer (a CA re-keyed under the same
    /// name; as pyca/cryptography and Go decide): it is dropped, and when that leaves none,
    /// the search records "issuer not found" naming the key identifier sought rather than
    /// the signature failure trying it would give.
    fn rank<'x>(&mut self, child: &CertRef, mut cands: Vec<&'x CertRef>) -> Vec<&'x CertRef> {
        let before = cands.len();
        if let Some(aki) = &child.authority_key_id {
            cands.retain(|c| c.subject_key_id.as_ref().is_none_or(|s| s == aki));
            if before > 0 && cands.is_empty() {
                self.record(PathError::new(
                    Code::ChainUntrusted,
                    format!(
                        "no issuer of {} with key identifier {} found: {before} certificate(s) named '{}' \
                         have other key identifiers (a re-keyed CA needs its new certificate)",
                        child.describe(),
                        hex::encode(aki),
                        child.issuer
                    ),
                ));
            }
        }
        cands.sort_by_key(|c| match (&child.authority_key_id, &c.subject_key_id) {
            (Some(a), Some(s)) if a == s => 0u8,
            _ => 1,
        });
        cands
    }

    fn check_edge(&mut self, issuer: &CertRef, child: &CertRef) -> Result<Result<(), PathError<E>>, PathError<E>> {
        // Every edge the search considers counts against the budget, whether its signature
        // is already in the shared cache or not: the work stays bounded (RFC 4158 §5) and the
        // verdict never depends on what earlier documents put in the cache.
        self.signature_checks += 1;
        if self.signature_checks > self.ctx.policy.budget.max_signature_checks {
            return Err(PathError::new(
                Code::BudgetExceeded,
                format!(
                    "path building for {} exceeded {} signature checks",
                    child.describe(),
                    self.ctx.policy.budget.max_signature_checks
                ),
            ));
        }
        // An issuer whose DSA key inherits its parameters can only be checked once the
        // whole path is known (RFC 5280 §6.1.4 (k)): `validate` verifies such edges.
        if crate::crypto::PublicKey::needs_inherited_dsa_params(&issuer.spki) {
            return Ok(Ok(()));
        }
        let key = (issuer.fingerprint, child.fingerprint);
        if let Some(r) = self.ctx.edges.get(&key) {
            return Ok(r);
        }
        let r = verify_cert_signature(self.ctx.policy, issuer, child);
        self.ctx.edges.put(key, r.clone());
        Ok(r)
    }

    /// Depth-first extension of `chain` (leaf first). `Ok(Some)` = found a valid path;
    /// `Ok(None)` = this branch is exhausted; `Err` = fatal (budget).
    fn extend(&mut self, chain: &mut Vec<CertRef>) -> Result<Option<ValidPath<E>>, PathError<E>> {
        let cur = match chain.last() {
            Some(c) => Arc::clone(c),
            None => return Ok(None),
        };
        let anchors = self.rank(&cur, self.ctx.anchors.issuers_of(&cur));
        let no_anchor = anchors.is_empty();
        for anchor in anchors {
            if let Err(e) = self.check_edge(anchor, &cur)? {
                self.record(e);
                continue;
            }
            self.paths_tried += 1;
            if self.paths_tried > self.ctx.policy.budget.max_paths {
                return Err(PathError::new(
                    Code::BudgetExceeded,
                    format!(
                        "path building tried more than {} paths",
                        self.ctx.policy.budget.max_paths
                    ),
                ));
            }
            match validate(self.ctx, chain, anchor) {
                Ok(p) => return Ok(Some(p)),
                // A budget exhausted while validating (policy graph, CRL signature checks
                // of revocation) ends the search like one exhausted while building: other
                // candidates would only spend more of what is already gone.
                Err(e) if e.code == Code::BudgetExceeded => return Err(e),
                Err(e) => self.record(e),
            }
        }
        // chain = leaf + intermediates so far; one more intermediate must stay within depth.
        let intermediates = chain.len() - 1;
        let cands = self.rank(&cur, self.ctx.pool.issuers_of(&cur));
        if no_anchor
            && cands
                .iter()
                .all(|c| chain.iter().any(|x| x.fingerprint == c.fingerprint))
            && !self.dead_ends.iter().any(|d| d.fingerprint == cur.fingerprint)
            && self.dead_ends.len() < 16
        {
            self.dead_ends.push(Arc::clone(&cur));
        }
        if !cands.is_empty() && intermediates >= self.ctx.policy.max_chain_depth {
            self.record(PathError::new(
                Code::PathTooLong,
                format!(
                    "no trust anchor within max_chain_depth={} intermediates above {}",
                    self.ctx.policy.max_chain_depth,
                    chain[0].describe()
                ),
            ));
            return Ok(None);
        }
        for cand in cands {
            if chain.iter().any(|c| c.fingerprint == cand.fingerprint) {
                continue;
            }
            if let Err(e) = self.check_edge(cand, &cur)? {
                self.record(e);
                continue;
            }
            chain.push(Arc::clone(cand));
            let r = self.extend(chain);
            chain.pop();
            if let Some(p) = r? {
                return Ok(Some(p));
            }
        }
        Ok(None)
    }
}

/// Verifies `child`'s signature with `issuer`'s key (RFC 5280 §6.1.3 (a)(1)).
pub fn verify_cert_signature<E>(policy: &Policy, issuer: &CertRef, child: &CertRef) -> Result<(), PathError<E>> {
    let key = issuer.public_key.as_ref().map_err(|e| {
        PathError::new(
            crypto_code(e),
            format!("cannot use the key of {}: {e}", issuer.describe()),
        )
    })?;
    verify_with_key(policy, key, issuer, child)
}

/// Verifies `child` with `issuer`'s parameter-less DSA key completed by the working
/// parameters of the path (RFC 5280 §6.1.4 (k), RFC 3279 §2.3.2).
fn verify_with_inherited_params<E>(
    policy: &Policy,
    issuer: &CertRef,
    child: &CertRef,
    params: Option<&[u8]>,
) -> Result<(), PathError<E>> {
    let params = params.ok_or_else(|| {
        PathError::new(
            Code::CertSignatureInvalid,
            format!(
                "the DSA key of {} has no parameters and none can be inherited along the path",
                issuer.describe()
            ),
        )
    })?;
    let key = crate::crypto::PublicKey::from_spki_with_inherited_dsa_params(&issuer.spki, params)
        .map_err(|e| PathError::new(crypto_code(&e), format!("the key of {}: {e}", issuer.describe())))?;
    verify_with_key(policy, &key, issuer, child)
}

fn verify_with_key<E>(
    policy: &Policy,
    key: &crate::crypto::PublicKey,
    issuer: &CertRef,
    child: &CertRef,
) -> Result<(), PathError<E>> {
    if !child.signature_octet_aligned {
        return Err(PathError::new(
            Code::CertSignatureInvalid,
            format!(
                "signature of {} is a BIT STRING with unused bits, which no algorithm produces",
                child.describe()
            ),
        ));
    }
    let scheme = SignatureScheme::from_algorithm_identifier(&child.signature_algorithm)
        .map_err(|e| PathError::new(crypto_code(&e), format!("signature of {}: {e}", child.describe())))?;
    scheme
        .verify(
            key,
            child.tbs(),
            &child.signature,
            policy.legacy_for_certificates(),
            policy.min_rsa_bits,
        )
        .map_err(|e| {
            PathError::new(
                crypto_code(&e),
                format!(
                    "signature of {} does not verify with the key of {}: {e}",
                    child.describe(),
                    issuer.describe()
                ),
            )
        })
}

/// Extensions this validator processes; any other critical extension fails the path
/// (RFC 5280 §6.1.4 (o), §4.2: "A certificate-using system MUST reject the certificate if
/// it encounters a critical extension it does not recognize").
const PROCESSED_EXTENSIONS: &[&str] = &[
    "2.5.29.30", // nameConstraints (x509::name_constraints)
    "2.5.29.31", // cRLDistributionPoints (revocation::crl scope)
    "2.5.29.46", // freshestCRL (delta CRLs are found among the CRLs supplied)
    "2.5.29.32", // certificatePolicies (x509::policy_graph)
    "2.5.29.33", // policyMappings
    "2.5.29.36", // policyConstraints
    "2.5.29.54", // inhibitAnyPolicy
    "2.5.29.14", // subjectKeyIdentifier
    "2.5.29.15", // keyUsage
    "2.5.29.17", // subjectAltName (informational for signers)
    "2.5.29.19", // basicConstraints
    "2.5.29.35", // authorityKeyIdentifier
    "2.5.29.37", // extendedKeyUsage
];

/// `cert` valid at `at` (RFC 5280 §6.1.3 (a)(2)); `who` names it in the reason (built only
/// on failure: this runs for every certificate of every path), `hint` ends it.
fn check_validity<E>(cert: &CertRef, at: UnixTime, who: impl Fn() -> String, hint: &str) -> Result<(), PathError<E>> {
    let hint = if hint.is_empty() {
        String::new()
    } else {
        format!(" {hint}")
    };
    if at < cert.not_before {
        return Err(PathError::new(
            Code::CertNotYetValid,
            format!(
                "{} is not valid before {} (validation time {}){hint}",
                who(),
                to_rfc3339(cert.not_before),
                to_rfc3339(at)
            ),
        ));
    }
    if at > cert.not_after {
        return Err(PathError::new(
            Code::CertExpired,
            format!(
                "{} expired at {} (validation time {}){hint}",
                who(),
                to_rfc3339(cert.not_after),
                to_rfc3339(at)
            ),
        ));
    }
    Ok(())
}

/// RFC 5937 §3 (what OpenSSL, Go and pyca/cryptography apply): a trust anchor given as a
/// certificate carries constraints: its validity period at the validation time, and no
/// critical extension the validator does not process. (Its nameConstraints are applied by
/// `validate` to the whole path.)
fn check_anchor<E>(anchor: &CertRef, at: UnixTime) -> Result<(), PathError<E>> {
    let hint = "(RFC 5937; anchor_constraints=False treats anchors as bare keys)";
    check_validity(anchor, at, || format!("trust anchor {}", anchor.describe()), hint)?;
    if let Some(ext) = anchor
        .extensions
        .iter()
        .find(|e| e.critical && !PROCESSED_EXTENSIONS.contains(&e.oid.as_str()))
    {
        return Err(PathError::new(
            Code::UnknownCriticalExtension,
            format!(
                "trust anchor {} has critical extension {} that govsig does not process {hint}",
                anchor.describe(),
                ext.oid
            ),
        ));
    }
    Ok(())
}

/// Validates a complete candidate path (RFC 5280 §6.1.2-§6.1.5). `chain` is leaf first;
/// signatures of each edge were verified while building.
pub fn validate<E: RevocationRecord>(
    ctx: &PathContext<'_, E>,
    chain: &[CertRef],
    anchor: &CertRef,
) -> Result<ValidPath<E>, PathError<E>> {
    let policy = ctx.policy;
    let at = ctx.at;
    let n = chain.len();
    let leaf = chain
        .first()
        .ok_or_else(|| PathError::new(Code::ChainUntrusted, "empty path"))?;
    // Intermediates, as max_chain_depth counts them.
    let intermediates = n.saturating_sub(1);
    if intermediates > policy.max_chain_depth {
        return Err(PathError::new(
            Code::PathTooLong,
            format!(
                "path has {intermediates} intermediates, more than max_chain_depth={}",
                policy.max_chain_depth
            ),
        ));
    }
    // §6.1.2 (k): max_path_length starts at n (we count down per non-self-issued CA).
    let mut max_path_length: u64 = u64::try_from(n).unwrap_or(u64::MAX);
    let mut valid_from = i64::MIN;
    let mut valid_until = i64::MAX;
    // §6.1.2 (e)/(f), §6.1.4 (j)-(k): working_public_key_parameters (DSA inheritance).
    let mut working_dsa_params: Option<Vec<u8>> = anchor.public_key.as_ref().ok().and_then(|k| k.dsa_params_der());
    let mut prev: &CertRef = anchor;
    // §6.1.2 (a), (d)-(f): the policy graph and its counters.
    let mut policies = PolicyState::new(&policy.policy_inputs, n).map_err(policy_error)?;
    // §6.1.2 (b)-(c): permitted and excluded subtrees.
    let mut names = NameConstraintsState::new();
    let mut nc_budget = policy.budget.max_name_constraint_checks;
    // RFC 5937: the anchor's own constraints (unless the leaf is the anchor itself, which
    // the loop below checks as the end entity).
    if policy.anchor_constraints && leaf.fingerprint != anchor.fingerprint {
        check_anchor(anchor, at)?;
        valid_from = valid_from.max(anchor.not_before);
        valid_until = valid_until.min(anchor.not_after);
        if let Some(ext) = anchor.extension("2.5.29.30") {
            let nc = NameConstraints::from_der(&ext.value).map_err(|e| {
                PathError::new(
                    Code::NameConstraintsViolated,
                    format!(
                        "nameConstraints of trust anchor {} are malformed: {e}",
                        anchor.describe()
                    ),
                )
            })?;
            names.apply(&nc);
        }
    }
    // Process from the certificate the anchor issued down to the leaf (i = 1..n).
    for (i, cert) in chain.iter().rev().enumerate() {
        let is_leaf = i + 1 == n;
        if crate::crypto::PublicKey::needs_inherited_dsa_params(&prev.spki) && prev.fingerprint != cert.fingerprint {
            verify_with_inherited_params(policy, prev, cert, working_dsa_params.as_deref())?;
        }
        if crate::crypto::PublicKey::has_dsa_params(&cert.spki) {
            working_dsa_params = cert.public_key.as_ref().ok().and_then(|k| k.dsa_params_der());
        } else if !crate::crypto::PublicKey::needs_inherited_dsa_params(&cert.spki) {
            working_dsa_params = None;
        }
        prev = cert;
        // §6.1.3 (a)(2): validity at the validation time.
        check_validity(cert, at, || cert.describe(), "")?;
        valid_from = valid_from.max(cert.not_before);
        valid_until = valid_until.min(cert.not_after);
        // RFC 5280 §4 profile rules (x509::profile) of the CAs here; the leaf's after its
        // end-entity checks (a leaf whose keyUsage cannot sign says that first); never the
        // anchor's (check_anchor).
        if !is_leaf && cert.fingerprint != anchor.fingerprint {
            crate::x509::profile::check(cert, true, policy.strict_profile)?;
        }
        if let Ok(k) = &cert.public_key {
            if k.key_type() == crate::crypto::KeyType::Rsa && k.bits() < policy.min_rsa_bits {
                return Err(PathError::new(
                    Code::WeakKey,
                    format!(
                        "{} has a {}-bit RSA key, below the minimum {}",
                        cert.describe(),
                        k.bits(),
                        policy.min_rsa_bits
                    ),
                ));
            }
        }
        // §6.1.3 (b)-(c): names of the certificate within the subtrees in force.
        names
            .check(cert, is_leaf, &mut nc_budget)
            .map_err(|v| nc_error(cert, v))?;
        // §6.1.3 (d)-(f) and, for CAs, §6.1.4 (a)-(b), (h)-(j).
        policies.process_certificate(cert).map_err(policy_error)?;
        for ext in &cert.extensions {
            if ext.critical && !PROCESSED_EXTENSIONS.contains(&ext.oid.as_str()) {
                return Err(PathError::new(
                    Code::UnknownCriticalExtension,
                    format!(
                        "{} has critical extension {} that govsig does not process",
                        cert.describe(),
                        ext.oid
                    ),
                ));
            }
        }
        if is_leaf {
            break;
        }
        // §6.1.4 (g): the CA's name constraints narrow the subtrees for what follows.
        if let Some(ext) = cert.extension("2.5.29.30") {
            let nc = NameConstraints::from_der(&ext.value).map_err(|e| {
                PathError::new(
                    Code::NameConstraintsViolated,
                    format!("nameConstraints of {} are malformed: {e}", cert.describe()),
                )
            })?;
            names.apply(&nc);
        }
        // §6.1.4: preparation for the next certificate; `cert` is an issuing CA.
        // (k) basicConstraints cA must be TRUE (v1/v2 CA certificates are refused, a
        // deliberate strictness that RFC 5280 allows).
        if !cert.is_ca() {
            return Err(PathError::new(
                Code::BasicConstraintsInvalid,
                format!(
                    "{} issues certificates but is not a CA (basicConstraints cA not true)",
                    cert.describe()
                ),
            ));
        }
        // (l) decrement for non-self-issued certificates.
        if !cert.is_self_issued() {
            if max_path_length == 0 {
                return Err(PathError::new(
                    Code::PathTooLong,
                    format!("pathLenConstraint exceeded at {}", cert.describe()),
                ));
            }
            max_path_length -= 1;
        }
        // (m) pathLenConstraint.
        if let Some(pl) = cert.basic_constraints.and_then(|b| b.path_len) {
            max_path_length = max_path_length.min(pl);
        }
        // (n) keyCertSign.
        if !cert.has_key_usage(key_usage::KEY_CERT_SIGN) {
            return Err(PathError::new(
                Code::KeyUsageInvalid,
                format!(
                    "{} issues certificates but its keyUsage lacks keyCertSign",
                    cert.describe()
                ),
            ));
        }
    }
    // §6.1.5 / application rules for the end entity.
    if !ctx.leaf_key_usage.any_of.is_empty() && !ctx.leaf_key_usage.any_of.iter().any(|&b| leaf.has_key_usage(b)) {
        let wanted: Vec<&str> = ctx
            .leaf_key_usage
            .any_of
            .iter()
            .filter_map(|&b| key_usage::NAMES.get(b).copied())
            .collect();
        return Err(PathError::new(
            Code::KeyUsageInvalid,
            format!("keyUsage of {} allows none of: {}", leaf.describe(), wanted.join(", ")),
        ));
    }
    if let Some(wanted) = &policy.extended_key_usage {
        if let Some(eku) = &leaf.extended_key_usage {
            let any = eku.iter().any(|o| o == "2.5.29.37.0" || wanted.contains(o));
            if !any {
                return Err(PathError::new(
                    Code::KeyUsageInvalid,
                    format!(
                        "extendedKeyUsage of {} has none of: {}",
                        leaf.describe(),
                        wanted.join(", ")
                    ),
                ));
            }
        }
    }
    if leaf.fingerprint != anchor.fingerprint {
        crate::x509::profile::check(leaf, false, policy.strict_profile)?;
    }
    // §6.1.5 (a)-(b), (g).
    let out = policies.finish().map_err(policy_error)?;
    // §6.1.3 (a)(3), §6.3: revocation of every certificate on the path.
    let revocation = ctx.revocation.check(ctx, chain, anchor)?;
    // A cached verdict must not outlive the evidence it rests on: every CRL's nextUpdate,
    // and what the checker says of the rest (an OCSP answer's nextUpdate plus skew, a
    // revocation dated after the validation time): past that instant the evidence would be
    // refused or say otherwise, so the verdict must be recomputed.
    for ev in &revocation {
        if let Some(until) = ev.valid_until() {
            valid_until = valid_until.min(until);
        }
        if let Some(from) = ev.valid_from() {
            valid_from = valid_from.max(from);
        }
    }
    Ok(ValidPath {
        certs: chain.to_vec(),
        anchor: Arc::clone(anchor),
        valid_from,
        valid_until,
        user_constrained_policy_set: out.user_constrained_policy_set,
        revocation,
    })
}

fn policy_error<E>(e: PolicyError) -> PathError<E> {
    match e {
        PolicyError::Budget(m) => PathError::new(Code::BudgetExceeded, m),
        PolicyError::Invalid(m) | PolicyError::BadInput(m) => PathError::new(Code::PolicyInvalid, m),
    }
}

fn nc_error<E>(cert: &CertRef, v: NcViolation) -> PathError<E> {
    match v {
        NcViolation::Budget => PathError::new(
            Code::BudgetExceeded,
            format!("name-constraint checks exceeded their budget at {}", cert.describe()),
        ),
        other => PathError::new(Code::NameConstraintsViolated, format!("{}: {other}", cert.describe())),
    }
}
