//! Revocation of every certificate on a path with CRLs (RFC 5280 §6.3.3), CA certificates
//! included. Called by path validation once a candidate path has passed §6.1; a revoked
//! certificate fails the path, an undetermined status fails it under hard-fail.

use std::collections::HashMap;
use std::sync::Arc;

use crate::crypto::{DigestAlgorithm, PublicKey};
use crate::outcome::Code;
use crate::policy::KeyUsageRule;
use crate::revocation::crl::{distribution_points, revocation_status, CrlIndex, ReasonMask};
use crate::revocation::ocsp::{
    ocsp_urls, subject_public_key_bits, validate_parsed, CertStatus, OcspCheck, OcspRequest, OcspResponse, OcspStatus,
    ResponderAuthority,
};
use crate::time::to_rfc3339;
use crate::x509::cert::CertRef;
use crate::x509::path::{build_and_validate, PathContext, PathError};
use govsig_asn1::x509::key_usage;

/// What to do when a status cannot be determined (no CRL in scope, stale, unverifiable).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum RevocationMode {
    /// No revocation checking.
    Off,
    /// Revoked fails; undetermined passes (and is reported as such in the evidence).
    #[default]
    SoftFail,
    /// Revoked fails; undetermined fails with `revocation_unknown`.
    HardFail,
}

/// Where revocation status comes from, in the order the policy tries them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RevocationSource {
    Ocsp,
    Crl,
}

/// OCSP responses available to a verification (given by the caller or fetched), parsed
/// once, indexed by the serial numbers they answer for.
#[derive(Clone, Default)]
pub struct OcspStore {
    responses: Vec<Arc<OcspResponse>>,
    by_serial: HashMap<Vec<u8>, Vec<usize>>,
    /// By issuerKeyHash: responses about other certificates of the same issuer, to say why
    /// they do not answer for this one.
    by_issuer_key_hash: HashMap<Vec<u8>, Vec<usize>>,
}

impl OcspStore {
    pub fn add(&mut self, r: Arc<OcspResponse>) {
        if self.responses.iter().any(|x| x.fingerprint == r.fingerprint) {
            return;
        }
        let i = self.responses.len();
        for single in &r.responses {
            let list = self.by_serial.entry(single.serial.clone()).or_default();
            if !list.contains(&i) {
                list.push(i);
            }
            let list = self
                .by_issuer_key_hash
                .entry(single.issuer_key_hash.clone())
                .or_default();
            if !list.contains(&i) {
                list.push(i);
            }
        }
        self.responses.push(r);
    }

    pub fn len(&self) -> usize {
        self.responses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.responses.is_empty()
    }

    pub fn merged(&self, other: &OcspStore) -> OcspStore {
        let mut s = self.clone();
        for r in &other.responses {
            s.add(Arc::clone(r));
        }
        s
    }

    fn for_serial(&self, serial: &[u8]) -> impl Iterator<Item = &Arc<OcspResponse>> {
        self.by_serial
            .get(serial)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.responses.get(i))
    }

    /// Responses about certificates of the issuer whose key hashes to `key_hash`.
    fn for_issuer_key_hash(&self, key_hash: &[u8]) -> impl Iterator<Item = &Arc<OcspResponse>> {
        self.by_issuer_key_hash
            .get(key_hash)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.responses.get(i))
    }
}

/// Evidence the caller could not supply, by URL: why, and whether the fetch itself failed
/// (then a status only that evidence could decide is `fetch_failed`) or the evidence came
/// but decided nothing (then it stays `revocation_unknown`). Either way it is not asked for
/// again, so the next source gets its turn.
pub type FetchFailures = HashMap<String, FetchFailure>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchFailure {
    pub reason: String,
    pub fetch_failed: bool,
}

/// CRLs available to a verification, indexed by issuer name; complete and delta apart.
#[derive(Clone, Default)]
pub struct CrlSet {
    complete: HashMap<Vec<u8>, Vec<Arc<CrlIndex>>>,
    deltas: HashMap<Vec<u8>, Vec<Arc<CrlIndex>>>,
    fingerprints: Vec<[u8; 32]>,
}

impl CrlSet {
    pub fn new(crls: impl IntoIterator<Item = Arc<CrlIndex>>) -> CrlSet {
        let mut s = CrlSet::default();
        for c in crls {
            s.add(c);
        }
        s
    }

    pub fn add(&mut self, crl: Arc<CrlIndex>) {
        let fp = crl.fingerprint();
        if self.fingerprints.contains(&fp) {
            return;
        }
        self.fingerprints.push(fp);
        let key = crl.issuer.key().to_vec();
        if crl.is_delta() {
            self.deltas.entry(key).or_default().push(crl);
        } else {
            self.complete.entry(key).or_default().push(crl);
        }
    }

    /// Both sets together (the policy's plus a document's).
    pub fn merged(&self, other: &CrlSet) -> CrlSet {
        let mut s = self.clone();
        for list in other.complete.values().chain(other.deltas.values()) {
            for c in list {
                s.add(Arc::clone(c));
            }
        }
        s
    }

    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }

    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    fn all_complete(&self) -> impl Iterator<Item = &Arc<CrlIndex>> {
        self.complete.values().flatten()
    }

    fn deltas_for(&self, complete: &CrlIndex) -> impl Iterator<Item = &Arc<CrlIndex>> {
        self.deltas.get(complete.issuer.key()).into_iter().flatten()
    }
}

/// The revocation status of one certificate, as established (or not).
#[derive(Clone, Debug)]
pub struct RevocationEvidence {
    /// The certificate checked (its fingerprint, subject and serial).
    pub certificate: CertRef,
    pub status: RevocationStatus,
    /// The complete CRL that decided (fingerprint, issuer, thisUpdate, nextUpdate).
    pub crl: Option<Arc<CrlIndex>>,
    /// The delta CRL applied on top of it, if any.
    pub delta: Option<Arc<CrlIndex>>,
    /// The OCSP response that decided, if OCSP did.
    pub ocsp: Option<OcspStatus>,
    /// When the status is unknown: the evidence that could decide it (sans-IO: the caller
    /// fetches these and verifies again).
    pub needs: Vec<EvidenceNeed>,
}

/// Evidence the core lacks for a certificate, named by where it can be fetched.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EvidenceNeed {
    /// A CRL at this URL (the certificate's cRLDistributionPoints, RFC 5280 §4.2.1.13).
    Crl { url: String },
    /// An OCSP response to this DER request from the responder at this URL
    /// (authorityInfoAccess id-ad-ocsp, RFC 5280 §4.2.2.1).
    Ocsp { url: String, request: Vec<u8> },
}

impl EvidenceNeed {
    pub fn url(&self) -> &str {
        match self {
            EvidenceNeed::Crl { url } | EvidenceNeed::Ocsp { url, .. } => url,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevocationStatus {
    Good,
    /// Not determined; the reason says why (soft-fail accepted it).
    Unknown(String),
}

/// How deep CRL-signer paths may nest (a CRL signer's own path needs its own CRLs).
const MAX_CRL_SIGNER_DEPTH: usize = 2;

/// Checks every non-anchor certificate of `chain` (leaf first) whose issuer is the next
/// certificate (or `anchor` for the last one).
pub fn check_path(
    ctx: &PathContext<'_>,
    chain: &[CertRef],
    anchor: &CertRef,
) -> Result<Vec<RevocationEvidence>, PathError> {
    let mut evidence = Vec::new();
    if ctx.revocation == RevocationMode::Off {
        return Ok(evidence);
    }
    // The issuers' keys as the path uses them: DSA parameters inherited along the path
    // (RFC 5280 §6.1.4 (k)) also apply when an issuer signs a CRL.
    let mut keys: Vec<Option<PublicKey>> = vec![None; chain.len()];
    let mut params = anchor.public_key.as_ref().ok().and_then(|k| k.dsa_params_der());
    for (i, cert) in chain.iter().enumerate().rev() {
        let key = if PublicKey::needs_inherited_dsa_params(&cert.spki) {
            params
                .as_deref()
                .and_then(|p| PublicKey::from_spki_with_inherited_dsa_params(&cert.spki, p).ok())
        } else {
            cert.public_key.as_ref().ok().cloned()
        };
        params = match &key {
            Some(k) if k.dsa_params_der().is_some() => k.dsa_params_der(),
            _ => None,
        };
        if let Some(slot) = keys.get_mut(i) {
            *slot = key;
        }
    }
    let mut undecided: Option<PathError> = None;
    for (i, cert) in chain.iter().enumerate() {
        if cert.fingerprint == anchor.fingerprint {
            continue;
        }
        let (issuer, issuer_key) = match chain.get(i + 1) {
            Some(c) => (c, keys.get(i + 1).cloned().flatten()),
            None => (anchor, anchor.public_key.as_ref().ok().cloned()),
        };
        match check_certificate(ctx, cert, issuer, issuer_key.as_ref(), anchor) {
            Ok(e) => evidence.push(e),
            // Revoked (or any other verdict) ends the path here.
            Err(e) if !matches!(e.code, Code::RevocationUnknown | Code::FetchFailed) => return Err(e),
            // Undetermined under hard-fail: the path fails with the first such certificate,
            // but the evidence every other certificate lacks is named too, so a caller
            // fetches it all in one round instead of one round per level.
            Err(e) => match &mut undecided {
                None => undecided = Some(e),
                Some(first) => first.needs.extend(e.needs),
            },
        }
    }
    match undecided {
        Some(mut e) => {
            e.needs.sort();
            e.needs.dedup();
            Err(e)
        }
        None => Ok(evidence),
    }
}

/// The sources in the policy's order; the first that decides wins. When none does, the
/// status is unknown and the evidence to fetch next is that of the first source that still
/// has a location nobody failed to fetch.
fn check_certificate(
    ctx: &PathContext<'_>,
    cert: &CertRef,
    issuer: &CertRef,
    issuer_key: Option<&PublicKey>,
    anchor: &CertRef,
) -> Result<RevocationEvidence, PathError> {
    let mut why: Vec<String> = Vec::new();
    let mut wanted_by_source: Vec<Vec<EvidenceNeed>> = Vec::new();
    for source in ctx.sources {
        let outcome = match source {
            RevocationSource::Ocsp => check_ocsp(ctx, cert, issuer, anchor),
            RevocationSource::Crl => check_crls(ctx, cert, issuer, issuer_key, anchor),
        };
        match outcome {
            Decided::Yes(evidence) => return Ok(evidence),
            Decided::Revoked(e) => return Err(e),
            Decided::No { reason, needs } => {
                if !reason.is_empty() {
                    why.push(reason);
                }
                wanted_by_source.push(needs);
            }
        }
    }
    // Nothing at hand decides: ask for the evidence of the first source (in the policy's
    // order) that still has a location nobody failed to fetch.
    let mut needs: Vec<EvidenceNeed> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    let mut fetch_failed = false;
    for wanted in wanted_by_source {
        for n in wanted {
            match ctx.fetch_failures.get(n.url()) {
                Some(f) => {
                    failed.push(format!("{}: {}", n.url(), f.reason));
                    fetch_failed |= f.fetch_failed;
                }
                None => needs.push(n),
            }
        }
        if !needs.is_empty() {
            break;
        }
    }
    needs.sort();
    needs.dedup();
    let mut detail = why.join("; ");
    if needs.is_empty() && !failed.is_empty() {
        detail = format!("{detail}; could not use: {}", failed.join("; "));
        let reason = format!("revocation status of {} is unknown: {detail}", cert.describe());
        let code = if fetch_failed {
            Code::FetchFailed
        } else {
            Code::RevocationUnknown
        };
        return match ctx.revocation {
            RevocationMode::HardFail => Err(PathError { code, reason, needs }),
            _ => Ok(unknown_evidence(cert, reason, needs)),
        };
    }
    undetermined(ctx, cert, detail, needs)
}

enum Decided {
    Yes(RevocationEvidence),
    Revoked(PathError),
    No { reason: String, needs: Vec<EvidenceNeed> },
}

/// OCSP (RFC 6960): a response the caller gave or fetched, for this certificate, from its
/// issuer or a responder the issuer authorised, fresh at the validation time.
fn check_ocsp(ctx: &PathContext<'_>, cert: &CertRef, issuer: &CertRef, anchor: &CertRef) -> Decided {
    let mut why = Vec::new();
    let mut unknown_said = None;
    for resp in ctx.ocsp.for_serial(&cert.serial) {
        let check = OcspCheck {
            skew: ctx.ocsp_skew,
            legacy: ctx.policy.legacy,
            min_rsa_bits: ctx.policy.min_rsa_bits,
            other_certs: ctx.pool.certs(),
            ..OcspCheck::new(ctx.at)
        };
        match validate_parsed(resp, cert, issuer, &check, ResponderAuthority::OnPath { ctx, anchor }) {
            Ok(status) => match status.status {
                CertStatus::Good => {
                    return Decided::Yes(RevocationEvidence {
                        certificate: Arc::clone(cert),
                        status: RevocationStatus::Good,
                        crl: None,
                        delta: None,
                        ocsp: Some(status),
                        needs: Vec::new(),
                    })
                }
                CertStatus::Revoked { .. } => {
                    return Decided::Revoked(PathError::new(Code::CertRevoked, status.describe(cert)));
                }
                CertStatus::Unknown => unknown_said = Some(status.describe(cert)),
            },
            Err(e) => why.push(e.reason),
        }
    }
    // Nothing for this serial: a response about another certificate of the same issuer is
    // still worth naming (a responder that answered the wrong question is not silence).
    if why.is_empty() && unknown_said.is_none() {
        if let Ok(bits) = subject_public_key_bits(issuer) {
            for alg in [DigestAlgorithm::Sha1, DigestAlgorithm::Sha256] {
                let hash = alg.digest(&bits);
                for resp in ctx.ocsp.for_issuer_key_hash(&hash) {
                    let check = OcspCheck {
                        skew: ctx.ocsp_skew,
                        legacy: ctx.policy.legacy,
                        min_rsa_bits: ctx.policy.min_rsa_bits,
                        other_certs: ctx.pool.certs(),
                        ..OcspCheck::new(ctx.at)
                    };
                    if let Err(e) =
                        validate_parsed(resp, cert, issuer, &check, ResponderAuthority::OnPath { ctx, anchor })
                    {
                        why.push(e.reason);
                    }
                }
            }
        }
    }
    let mut needs = Vec::new();
    if let Ok(urls) = ocsp_urls(cert) {
        if let Ok(request) = OcspRequest::new(cert, issuer, DigestAlgorithm::Sha1, None) {
            for url in urls.into_iter().filter(|u| u.starts_with("http://")) {
                needs.push(EvidenceNeed::Ocsp {
                    url,
                    request: request.clone(),
                });
            }
        }
    }
    if let Some(u) = unknown_said {
        why.push(u);
        // The responder answered: asking it again says nothing new.
        needs.clear();
    }
    // Silent when OCSP has nothing to say (no response, no responder named): the other
    // source's reason is then the whole story.
    let reason = if !why.is_empty() {
        format!("OCSP: {}", why.join("; "))
    } else if !needs.is_empty() {
        "no OCSP response from the certificate's responder".to_string()
    } else {
        String::new()
    };
    Decided::No { reason, needs }
}

/// CRLs (RFC 5280 §6.3.3).
fn check_crls(
    ctx: &PathContext<'_>,
    cert: &CertRef,
    issuer: &CertRef,
    issuer_key: Option<&PublicKey>,
    anchor: &CertRef,
) -> Decided {
    let mut why: Vec<String> = Vec::new();
    let dps = match distribution_points(cert) {
        Ok(d) => d,
        Err(e) => {
            return Decided::No {
                reason: format!("its cRLDistributionPoints cannot be read: {e}"),
                needs: Vec::new(),
            }
        }
    };
    let mut reasons = ReasonMask::NONE;
    let mut decided: Option<(Arc<CrlIndex>, Option<Arc<CrlIndex>>)> = None;
    for crl in ctx.crls.all_complete() {
        // §6.3.3 (b), (d): does this CRL cover this certificate, and for which reasons?
        let scope = match crl.scope_covers(cert, &dps) {
            Ok(m) => m,
            Err(e) => {
                if crl.issuer.matches(&cert.issuer) {
                    why.push(e.0);
                }
                continue;
            }
        };
        if scope.intersect(ReasonMask(ReasonMask::ALL.0 & !reasons.0)).is_empty() {
            continue;
        }
        // §6.3.3 (a): fresh at the validation time.
        if let Err(e) = crl.check_freshness(ctx.at, 0) {
            why.push(e.reason);
            continue;
        }
        // §6.3.3 (f): a CRL signer with cRLSign and a valid path.
        let signer = match crl_signer(ctx, crl, cert, issuer, issuer_key, anchor) {
            Ok(s) => s,
            Err(e) => {
                why.push(e);
                continue;
            }
        };
        // §6.3.3 (c): a delta CRL in scope, fresh, and signed by the same signer.
        let delta = ctx
            .crls
            .deltas_for(crl)
            .filter(|d| d.delta_applies_to(crl).is_ok())
            .filter(|d| d.check_freshness(ctx.at, 0).is_ok())
            .filter(|d| {
                d.check_signer(&signer.0).is_ok()
                    && d.verify_signature(&signer.1, ctx.policy.legacy, ctx.policy.min_rsa_bits)
                        .is_ok()
            })
            .max_by_key(|d| d.this_update)
            .cloned();
        // §6.3.3 (g)-(i).
        match revocation_status(crl, delta.as_deref(), &cert.issuer, &cert.serial) {
            Err(e) => {
                why.push(e.0);
                continue;
            }
            Ok(Some(entry)) => {
                let source = delta
                    .as_ref()
                    .filter(|d| d.lookup(&cert.issuer, &cert.serial).is_some())
                    .unwrap_or(crl);
                return Decided::Revoked(PathError::new(
                    Code::CertRevoked,
                    format!(
                        "{} was revoked on {}{} according to {}",
                        cert.describe(),
                        to_rfc3339(entry.revocation_date),
                        entry.reason.map(|r| format!(" ({})", r.name())).unwrap_or_default(),
                        source.describe()
                    ),
                ));
            }
            Ok(None) => {
                reasons = reasons.union(scope);
                decided = Some((Arc::clone(crl), delta));
            }
        }
        if reasons.is_all() {
            break;
        }
    }
    if reasons.is_all() {
        if let Some((crl, delta)) = decided {
            return Decided::Yes(RevocationEvidence {
                certificate: Arc::clone(cert),
                status: RevocationStatus::Good,
                crl: Some(crl),
                delta,
                ocsp: None,
                needs: Vec::new(),
            });
        }
    }
    let detail = if why.is_empty() {
        format!("no CRL from '{}' was supplied", cert.issuer)
    } else {
        why.join("; ")
    };
    let detail = if reasons.is_empty() {
        detail
    } else {
        format!(
            "the CRLs cover only the reasons {}: {detail}",
            reasons.names().join(", ")
        )
    };
    // What could decide it: the CRLs named by the certificate.
    let mut needs: Vec<EvidenceNeed> = dps
        .iter()
        .flat_map(|d| d.uris())
        .filter(|u| u.starts_with("http://"))
        .map(|u| EvidenceNeed::Crl { url: u.to_string() })
        .collect();
    needs.sort();
    needs.dedup();
    Decided::No { reason: detail, needs }
}

/// A CRL's signature by `signer` is checked once per engine: every document signed under
/// the same CA shares the verdict.
fn verify_crl_cached(
    ctx: &PathContext<'_>,
    crl: &CrlIndex,
    signer: &CertRef,
    key: &PublicKey,
) -> Result<(), crate::revocation::crl::CrlError> {
    // Keys with inherited DSA parameters depend on the path, not on the certificate alone.
    let own_key = signer
        .public_key
        .as_ref()
        .map(|k| k.spki_der() == key.spki_der() && k.dsa_params_der() == key.dsa_params_der());
    let cacheable = matches!(own_key, Ok(true));
    let k = (signer.fingerprint, crl.fingerprint());
    if cacheable {
        if let Some(r) = ctx.edges.get(&k) {
            return r.map_err(|e| crate::revocation::crl::CrlError {
                code: e.code,
                reason: e.reason,
            });
        }
    }
    let r = crl.verify_signature(key, ctx.policy.legacy, ctx.policy.min_rsa_bits);
    if cacheable {
        ctx.edges
            .put(k, r.clone().map_err(|e| PathError::new(e.code, e.reason)));
    }
    r
}

fn undetermined(
    ctx: &PathContext<'_>,
    cert: &CertRef,
    detail: String,
    needs: Vec<EvidenceNeed>,
) -> Result<RevocationEvidence, PathError> {
    let reason = format!("revocation status of {} is unknown: {detail}", cert.describe());
    match ctx.revocation {
        RevocationMode::HardFail => Err(PathError {
            code: Code::RevocationUnknown,
            reason,
            needs,
        }),
        _ => Ok(unknown_evidence(cert, reason, needs)),
    }
}

fn unknown_evidence(cert: &CertRef, reason: String, needs: Vec<EvidenceNeed>) -> RevocationEvidence {
    RevocationEvidence {
        certificate: Arc::clone(cert),
        status: RevocationStatus::Unknown(reason),
        crl: None,
        delta: None,
        ocsp: None,
        needs,
    }
}

/// The certificate that signed `crl`: the certificate's issuer when it is the CRL issuer,
/// else another certificate (pool or anchors) with its own valid path (RFC 5280 §6.3.3 (f);
/// indirect CRLs and separate CRL-signing keys).
fn crl_signer(
    ctx: &PathContext<'_>,
    crl: &CrlIndex,
    cert: &CertRef,
    issuer: &CertRef,
    issuer_key: Option<&PublicKey>,
    anchor: &CertRef,
) -> Result<(CertRef, PublicKey), String> {
    let mut errors = Vec::new();
    if crl.is_signer_candidate(issuer) {
        let checked = crl.check_signer(issuer).and_then(|()| match issuer_key {
            Some(k) => verify_crl_cached(ctx, crl, issuer, k).map(|()| k.clone()),
            None => crl
                .verify_signed_by(issuer, ctx.policy.legacy, ctx.policy.min_rsa_bits)
                .and_then(|()| {
                    issuer.public_key.clone().map_err(|e| crate::revocation::crl::CrlError {
                        code: Code::CrlInvalid,
                        reason: e.to_string(),
                    })
                }),
        });
        match checked {
            Ok(k) => return Ok((Arc::clone(issuer), k)),
            Err(e) => errors.push(e.reason),
        }
    }
    let candidates = ctx
        .anchors
        .anchors()
        .iter()
        .chain(ctx.pool.certs().iter())
        .filter(|c| c.fingerprint != issuer.fingerprint && crl.is_signer_candidate(c));
    for cand in candidates {
        if let Err(e) = crl.verify_signed_by(cand, ctx.policy.legacy, ctx.policy.min_rsa_bits) {
            errors.push(e.reason);
            continue;
        }
        let key = match cand.public_key.clone() {
            Ok(k) => k,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        // A CRL issuer's certificate may be covered by its own CRL (an indirect CRL that
        // lists the cRLIssuer too, PKITS 4.14.30): its path is the one being validated.
        if ctx.anchors.contains(&cand.fingerprint) || cand.fingerprint == cert.fingerprint {
            return Ok((Arc::clone(cand), key));
        }
        if ctx.revocation_depth >= MAX_CRL_SIGNER_DEPTH {
            errors.push(format!(
                "the path of CRL signer {} is nested too deeply to validate",
                cand.describe()
            ));
            continue;
        }
        let rule = KeyUsageRule {
            any_of: vec![key_usage::CRL_SIGN],
        };
        let sub = PathContext {
            leaf_key_usage: &rule,
            revocation_depth: ctx.revocation_depth + 1,
            ..*ctx
        };
        match build_and_validate(&sub, cand) {
            // RFC 5280 §6.3.3 (f) asks for the CRL signer's path to share the certificate's
            // trust anchor.
            Ok(p) if p.anchor.fingerprint == anchor.fingerprint => return Ok((Arc::clone(cand), key)),
            Ok(_) => errors.push(format!("CRL signer {} chains to another trust anchor", cand.describe())),
            Err(e) => errors.push(format!("CRL signer {}: {}", cand.describe(), e.reason)),
        }
    }
    if errors.is_empty() {
        errors.push(format!("no certificate for the CRL issuer '{}' was found", crl.issuer));
    }
    Err(format!("{} cannot be used: {}", crl.describe(), errors.join("; ")))
}
