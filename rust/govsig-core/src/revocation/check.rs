//! Revocation of every certificate on a path (RFC 5280 §6.3, RFC 6960), CA certificates
//! included. Called by path validation once a candidate path has passed §6.1. For each
//! certificate every CRL and OCSP response at hand is judged (signature, authority, scope,
//! freshness, critical extensions) and the status is decided from the whole set by the
//! rules of [`crate::revocation::decide`]; a revoked or held certificate fails the path, an
//! undetermined status fails it under hard-fail.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

use crate::crypto::{DigestAlgorithm, PublicKey};
use crate::outcome::Code;
use crate::policy::KeyUsageRule;
use crate::revocation::checker::RevocationChecker;
use crate::revocation::checker::{PathContext, PathError, ValidPath};
use crate::revocation::crl::{
    distribution_points, revocation_status, CrlError, CrlIndex, CrlNumber, GeneralNameValue, ReasonMask, RevokedEntry,
};
use crate::revocation::decide::{decide, not_revoked_since, revoked_after, Observation, Said, ScopeKey, Verdict};
use crate::revocation::ocsp::{
    ocsp_urls, subject_public_key_bits, validate_parsed, CertStatus, OcspCheck, OcspRequest, OcspResponse, OcspStatus,
    ResponderAuthority,
};
use crate::time::{to_rfc3339, UnixTime};
use crate::x509::cert::CertRef;
use crate::x509::path::build_and_validate;
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

/// Where revocation evidence is fetched from, in the policy's order (it orders fetching only;
/// every piece of evidence at hand is believed alike, see [`crate::revocation::decide`]).
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
    /// Responses that are OCSP responses but answer for no certificate (unsuccessful, or
    /// unreadable past the outer structure): why each was refused, named in results.
    refused: Vec<(String, [u8; 32])>,
}

impl OcspStore {
    /// Keeps a response that cannot be used as refused evidence, with the reason.
    pub fn add_refused(&mut self, reason: String, fingerprint: [u8; 32]) {
        if !self.refused.iter().any(|(_, f)| *f == fingerprint) {
            self.refused.push((reason, fingerprint));
        }
    }

    /// Why each refused response was refused.
    pub fn refused(&self) -> Vec<String> {
        self.refused
            .iter()
            .map(|(r, _)| format!("an OCSP response was refused: {r}"))
            .collect()
    }

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
        self.responses.len() + self.refused.len()
    }

    pub fn is_empty(&self) -> bool {
        self.responses.is_empty() && self.refused.is_empty()
    }

    /// The usable responses held (not the refused).
    pub fn responses(&self) -> &[Arc<OcspResponse>] {
        &self.responses
    }

    /// Keeps only the usable responses for which `keep` is true (refused ones stay).
    pub fn retain(&mut self, keep: impl Fn(&Arc<OcspResponse>) -> bool) {
        let kept: Vec<Arc<OcspResponse>> = self.responses.iter().filter(|r| keep(r)).cloned().collect();
        let refused = std::mem::take(&mut self.refused);
        *self = OcspStore::default();
        for r in kept {
            self.add(r);
        }
        self.refused = refused;
    }

    pub fn merged(&self, other: &OcspStore) -> OcspStore {
        let mut s = self.clone();
        for r in &other.responses {
            s.add(Arc::clone(r));
        }
        for (r, f) in &other.refused {
            s.add_refused(r.clone(), *f);
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
    /// CRLs that are CRLs but cannot be used ([`CrlIndex::defect`]): kept to say why.
    refused: Vec<Arc<CrlIndex>>,
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
        if crl.defect.is_some() {
            self.refused.push(crl);
        } else if crl.is_delta() {
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
        for c in &other.refused {
            s.add(Arc::clone(c));
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

    /// Delta CRLs issued by `issuer`.
    fn deltas_of(&self, issuer: &crate::x509::Name) -> impl Iterator<Item = &Arc<CrlIndex>> {
        self.deltas.get(issuer.key()).into_iter().flatten()
    }

    /// CRLs kept as refused evidence.
    pub fn refused(&self) -> &[Arc<CrlIndex>] {
        &self.refused
    }

    /// Every CRL held: complete, delta and refused.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<CrlIndex>> {
        self.complete
            .values()
            .chain(self.deltas.values())
            .flatten()
            .chain(self.refused.iter())
    }

    /// Keeps only the CRLs for which `keep` is true.
    pub fn retain(&mut self, keep: impl Fn(&Arc<CrlIndex>) -> bool) {
        let kept: Vec<Arc<CrlIndex>> = self.iter().filter(|c| keep(c)).cloned().collect();
        *self = CrlSet::new(kept);
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
    /// Evidence about this certificate that was refused, each with why (bad signature,
    /// out of scope, stale, a CRL profile violation, an unauthorised responder, ...).
    pub refused: Vec<String>,
    /// The last instant at which this status may be reused (besides the CRLs' nextUpdate):
    /// the deciding OCSP answer's nextUpdate plus the forgiven skew (thisUpdate plus skew
    /// without one: RFC 6960 §4.2.2.1), or just before a revocation dated after the
    /// validation time. A cached verdict must not outlive it.
    pub valid_until: Option<UnixTime>,
    /// The first instant at which this status holds, when evidence bounds it from below
    /// (a certificateHold released at that instant: before it, the hold was in force).
    pub valid_from: Option<UnixTime>,
    /// A revocation dated after the validation time (`decide`, rule 2): the certificate was
    /// not revoked at T but was revoked on this date, for this reason (None when the entry
    /// has no reasonCode). Reported with the warning `revoked_after_signature`.
    pub revoked_at: Option<UnixTime>,
    /// The reasonCode of that later revocation, or, with a revocation verdict (status
    /// `Revoked`, `revoked_at` None), of the revocation that decided it.
    pub revoked_reason: Option<crate::revocation::crl::Reason>,
    /// The validated path of the deciding CRL's signer when it is not the certificate's
    /// issuer (an indirect CRL, a separate CRL-signing key: RFC 5280 §6.3.3 (f)), with its
    /// own revocation evidence: part of what decided, kept as evidence.
    pub crl_signer_path: Option<Arc<ValidPath>>,
    /// With an `algorithm_not_allowed` verdict on the status: the CRLs, OCSP responses and
    /// CRL-signer certificates refused for their algorithm. They decided that verdict, so
    /// they are kept as evidence (fed back offline, they reproduce it).
    pub refused_for_algorithm: RefusedForAlgorithm,
}

/// Evidence at hand that the policy refused for its algorithm (issue 11 item 4).
#[derive(Clone, Debug, Default)]
pub struct RefusedForAlgorithm {
    pub crls: Vec<Arc<CrlIndex>>,
    pub ocsp: Vec<Arc<OcspResponse>>,
    pub certificates: Vec<CertRef>,
}

impl RefusedForAlgorithm {
    pub fn is_empty(&self) -> bool {
        self.crls.is_empty() && self.ocsp.is_empty() && self.certificates.is_empty()
    }

    fn extend(&mut self, other: RefusedForAlgorithm) {
        self.crls.extend(other.crls);
        self.ocsp.extend(other.ocsp);
        self.certificates.extend(other.certificates);
    }
}

pub use crate::need::EvidenceNeed;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevocationStatus {
    Good,
    /// Revoked or on hold at the validation time (kept only with a revocation verdict's
    /// evidence); the reason names the deciding evidence.
    Revoked(Arc<str>),
    /// Not determined; the reason says why (soft-fail accepted it). Shared, not copied:
    /// every document whose cached path carries this evidence holds the same text.
    Unknown(Arc<str>),
}

/// How deep CRL-signer paths may nest (a CRL signer's own path needs its own CRLs).
const MAX_CRL_SIGNER_DEPTH: usize = 2;

/// Checks every non-anchor certificate of `chain` (leaf first) whose issuer is the next
/// certificate (or `anchor` for the last one).
pub fn check_path(
    ctx: &PathContext<'_>,
    rc: &RevocationChecker<'_>,
    chain: &[CertRef],
    anchor: &CertRef,
) -> Result<Vec<RevocationEvidence>, PathError> {
    let mut evidence = Vec::new();
    if rc.mode == RevocationMode::Off {
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
    let work = CrlWork {
        checks: Cell::new(0),
        limit: ctx.policy.budget.max_signature_checks,
    };
    let mut undecided: Option<PathError> = None;
    for (i, cert) in chain.iter().enumerate() {
        if cert.fingerprint == anchor.fingerprint {
            continue;
        }
        let (issuer, issuer_key) = match chain.get(i + 1) {
            Some(c) => (c, keys.get(i + 1).cloned().flatten()),
            None => (anchor, anchor.public_key.as_ref().ok().cloned()),
        };
        match check_certificate(ctx, rc, cert, issuer, issuer_key.as_ref(), anchor, &work) {
            Ok(e) => evidence.push(e),
            // Revoked (or any other verdict) ends the path here; a revocation verdict keeps
            // the path and the evidence that decided it.
            Err(mut e)
                if !matches!(
                    e.code,
                    Code::RevocationUnknown | Code::FetchFailed | Code::AlgorithmNotAllowed
                ) =>
            {
                keep_path(&mut e, chain, anchor, evidence);
                return Err(e);
            }
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
            // Evidence refused for its algorithm is a verdict on the path as a revocation
            // is: it keeps the path and the statuses, like `decided` does.
            keep_path(&mut e, chain, anchor, evidence);
            Err(e)
        }
        None => Ok(evidence),
    }
}

/// A verdict that carries what decided it (`decided_by`) gets the whole path, anchor last,
/// and the statuses of the certificates checked before it: kept as its evidence.
fn keep_path(e: &mut PathError, chain: &[CertRef], anchor: &CertRef, mut evidence: Vec<RevocationEvidence>) {
    if let Some(decided) = e.decided_by.0.take() {
        let mut certs = chain.to_vec();
        if certs.last().is_none_or(|c| c.fingerprint != anchor.fingerprint) {
            certs.push(Arc::clone(anchor));
        }
        evidence.extend(decided.1.iter().cloned());
        e.decided_by = crate::x509::path::DecidedBy(Some(Arc::new((certs, evidence))));
    }
}

/// Signature checks of CRLs (against the certificate's issuer and against candidate CRL
/// signers) made for one path, charged whether the shared cache answers or not, so that a
/// document stuffed with CRLs named after its CA and same-named CA certificates costs at
/// most the policy's `max_signature_checks`, whatever earlier documents cached.
struct CrlWork {
    checks: Cell<usize>,
    limit: usize,
}

impl CrlWork {
    fn charge(&self, cert: &CertRef) -> Result<(), PathError> {
        let n = self.checks.get().saturating_add(1);
        self.checks.set(n);
        if n > self.limit {
            return Err(PathError::new(
                Code::BudgetExceeded,
                format!(
                    "revocation checking for {} exceeded {} CRL signature checks",
                    cert.describe(),
                    self.limit
                ),
            ));
        }
        Ok(())
    }
}

/// Where a valid observation came from, to name it in results.
#[derive(Clone)]
enum Source {
    Crl {
        crl: Arc<CrlIndex>,
        delta: Option<Arc<CrlIndex>>,
        signer_path: Option<Arc<ValidPath>>,
    },
    Ocsp(OcspStatus),
}

/// Every piece of evidence about `cert` is judged, then the rules of `revocation::decide`
/// give the status from the set. The policy's source order decides only which evidence is
/// asked for first when the status stays unknown, and which of two agreeing "good"
/// answers is named.
fn check_certificate(
    ctx: &PathContext<'_>,
    rc: &RevocationChecker<'_>,
    cert: &CertRef,
    issuer: &CertRef,
    issuer_key: Option<&PublicKey>,
    anchor: &CertRef,
    work: &CrlWork,
) -> Result<RevocationEvidence, PathError> {
    let mut fresh_from: Option<UnixTime> = None;
    let mut r = check_certificate_at(ctx, rc, cert, issuer, issuer_key, anchor, work, &mut fresh_from);
    // Evidence refused as stale at T would be current at an earlier time and might decide
    // otherwise there: the verdict (good or unknown) holds only after the last instant any
    // of it was current, so a cached path is not reused for a T before that.
    if let (Ok(e), Some(from)) = (&mut r, fresh_from) {
        e.valid_from = Some(e.valid_from.map_or(from, |f| f.max(from)));
    }
    r
}

#[allow(clippy::too_many_arguments)]
fn check_certificate_at(
    ctx: &PathContext<'_>,
    rc: &RevocationChecker<'_>,
    cert: &CertRef,
    issuer: &CertRef,
    issuer_key: Option<&PublicKey>,
    anchor: &CertRef,
    work: &CrlWork,
    fresh_from: &mut Option<UnixTime>,
) -> Result<RevocationEvidence, PathError> {
    let mut observations: Vec<Observation<Source>> = Vec::new();
    let crl = check_crls(ctx, rc, cert, issuer, issuer_key, anchor, work, &mut observations)?;
    let ocsp = check_ocsp(ctx, rc, cert, issuer, anchor, &mut observations);
    *fresh_from = crl.stale_until.max(ocsp.stale_until).map(|t| t.saturating_add(1));
    match decide(ctx.at, &observations) {
        Verdict::Revoked(o) => {
            return Err(decided(
                cert,
                o,
                PathError::new(Code::CertRevoked, describe_observation(cert, o, false)),
            ));
        }
        Verdict::OnHold(o) => {
            return Err(decided(
                cert,
                o,
                PathError::new(Code::CertOnHold, describe_observation(cert, o, true)),
            ));
        }
        Verdict::NotRevoked => {}
    }
    // A revocation dated after T (`decide`, rule 2) ends the time this verdict holds.
    let good_until = observations
        .iter()
        .filter_map(|o| match o.said {
            Said::Revoked { date, .. } if date > ctx.at => Some(date.saturating_sub(1)),
            _ => None,
        })
        .min();
    let later = revoked_after(ctx.at, &observations);
    let since = not_revoked_since(ctx.at, &observations);
    let good_at_t = |mut e: RevocationEvidence| {
        e.revoked_at = later.map(|l| l.0);
        e.revoked_reason = later.and_then(|l| l.1);
        e.valid_from = since;
        Ok(e)
    };
    let crl_findings_signer = crl.newest_signer_path.clone();
    let mut refused: Vec<String> = crl.why.iter().chain(ocsp.why.iter()).cloned().collect();
    refused.dedup();
    for source in rc.sources {
        let good = match source {
            RevocationSource::Crl if crl.coverage.is_all() => crl.newest.clone().map(|(c, d)| (Some(c), d, None)),
            RevocationSource::Ocsp => ocsp.good.clone().map(|o| (None, None, Some(o))),
            _ => None,
        };
        if let Some((crl, delta, ocsp)) = good {
            let valid_until = until(good_until, ocsp.as_ref(), rc.ocsp_skew);
            let crl_signer_path = crl.as_ref().and(crl_findings_signer.clone());
            return good_at_t(RevocationEvidence {
                certificate: Arc::clone(cert),
                status: RevocationStatus::Good,
                crl,
                delta,
                ocsp,
                needs: Vec::new(),
                refused,
                valid_until,
                crl_signer_path,
                ..unknown_evidence(cert, String::new(), Vec::new(), Vec::new())
            });
        }
    }
    // Evidence the policy does not list as a source still counts when it is at hand.
    if crl.coverage.is_all() {
        if let Some((c, d)) = crl.newest.clone() {
            return good_at_t(RevocationEvidence {
                certificate: Arc::clone(cert),
                status: RevocationStatus::Good,
                crl: Some(c),
                delta: d,
                ocsp: None,
                needs: Vec::new(),
                refused,
                valid_until: good_until,
                crl_signer_path: crl_findings_signer.clone(),
                ..unknown_evidence(cert, String::new(), Vec::new(), Vec::new())
            });
        }
    }
    if let Some(o) = ocsp.good.clone() {
        let valid_until = until(good_until, Some(&o), rc.ocsp_skew);
        return good_at_t(RevocationEvidence {
            certificate: Arc::clone(cert),
            status: RevocationStatus::Good,
            crl: None,
            delta: None,
            ocsp: Some(o),
            needs: Vec::new(),
            refused,
            valid_until,
            ..unknown_evidence(cert, String::new(), Vec::new(), Vec::new())
        });
    }
    // Evidence at hand refused only because the policy does not allow its algorithm (issue
    // 11 item 4): under hard-fail the verdict says so (`algorithm_not_allowed`, the reason
    // naming the algorithm and the CRL or response) rather than a bare "unknown", so an
    // archivist knows `legacy_certificates` is the question, not a missing CRL.
    let mut refused_for_algorithm = crl.algorithm_refused.clone();
    refused_for_algorithm.extend(ocsp.algorithm_refused.clone());
    let algorithm_refused = !refused_for_algorithm.is_empty();
    let mut why: Vec<String> = Vec::new();
    let mut wanted_by_source: Vec<Vec<EvidenceNeed>> = Vec::new();
    for source in rc.sources {
        let (reason, needs) = match source {
            RevocationSource::Crl => (crl.reason(cert), crl.needs.clone()),
            RevocationSource::Ocsp => (ocsp.reason(), ocsp.needs.clone()),
        };
        if !reason.is_empty() {
            why.push(reason);
        }
        wanted_by_source.push(needs);
    }
    // Nothing at hand decides: ask for the evidence of the first source (in the policy's
    // order) that still has a location nobody failed to fetch.
    let mut needs: Vec<EvidenceNeed> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    let mut fetch_failed = false;
    for wanted in wanted_by_source {
        for n in wanted {
            match rc.fetch_failures.get(n.url()) {
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
        let code = if fetch_failed {
            Code::FetchFailed
        } else if algorithm_refused {
            Code::AlgorithmNotAllowed
        } else {
            Code::RevocationUnknown
        };
        return undetermined(rc, code, cert, detail, needs, refused, refused_for_algorithm);
    }
    let code = if algorithm_refused {
        Code::AlgorithmNotAllowed
    } else {
        Code::RevocationUnknown
    };
    undetermined(rc, code, cert, detail, needs, refused, refused_for_algorithm)
}

/// An `algorithm_not_allowed` verdict on `cert`'s status keeps it as an unknown status (the
/// report's revocation column says "unknown", and the path is kept as for a revocation);
/// other errors pass unchanged.
fn algorithm_verdict(cert: &CertRef, mut e: PathError, refused_for_algorithm: RefusedForAlgorithm) -> PathError {
    if e.code == Code::AlgorithmNotAllowed {
        let mut ev = unknown_evidence(cert, e.reason.clone(), Vec::new(), Vec::new());
        ev.refused_for_algorithm = refused_for_algorithm;
        e.decided_by = crate::x509::path::DecidedBy(Some(Arc::new((Vec::new(), vec![ev]))));
    }
    e
}

/// `e` with the evidence that decided it: the observation's CRL (and delta) or OCSP answer.
fn decided(cert: &CertRef, o: &Observation<Source>, mut e: PathError) -> PathError {
    let mut ev = unknown_evidence(cert, e.reason.clone(), Vec::new(), Vec::new());
    ev.status = RevocationStatus::Revoked(e.reason.as_str().into());
    if let Said::Revoked { reason, .. } = o.said {
        ev.revoked_reason = reason;
    }
    match &o.source {
        Source::Crl {
            crl,
            delta,
            signer_path,
        } => {
            ev.crl = Some(Arc::clone(crl));
            ev.delta = delta.clone();
            ev.crl_signer_path = signer_path.clone();
        }
        Source::Ocsp(s) => ev.ocsp = Some(s.clone()),
    }
    e.decided_by = crate::x509::path::DecidedBy(Some(Arc::new((Vec::new(), vec![ev]))));
    e
}

/// The earlier of `good_until` and the instant the deciding OCSP answer goes stale.
fn until(good_until: Option<UnixTime>, ocsp: Option<&OcspStatus>, skew: i64) -> Option<UnixTime> {
    let stale = ocsp.map(|o| o.next_update.unwrap_or(o.this_update).saturating_add(skew.max(0)));
    match (good_until, stale) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The reason for a revoked or on-hold verdict, naming the evidence that decided it (the
/// CRL issuer and number, or the OCSP responder and producedAt).
fn describe_observation(cert: &CertRef, o: &Observation<Source>, hold: bool) -> String {
    match &o.source {
        Source::Ocsp(status) => {
            let mut s = status.describe(cert);
            s.push_str(&format!(" (producedAt {})", to_rfc3339(status.produced_at)));
            if hold {
                s.push_str(": it is on hold (certificateHold), which counts as revoked until released");
            }
            s
        }
        Source::Crl { crl, delta, .. } => {
            let (date, reason) = match o.said {
                Said::Revoked { date, reason } => (date, reason),
                Said::Good => (crl.this_update, None),
            };
            let by = match delta {
                Some(d) => format!("{} (on top of {})", d.describe(), crl.describe()),
                None => crl.describe(),
            };
            if hold {
                format!(
                    "{} is on hold (certificate_hold) since {} according to {by}; a hold counts as revoked \
                     until a newer CRL releases it (RFC 5280 §5.3.1)",
                    cert.describe(),
                    to_rfc3339(date)
                )
            } else {
                format!(
                    "{} was revoked on {}{} according to {by}",
                    cert.describe(),
                    to_rfc3339(date),
                    reason.map(|r| format!(" ({})", r.name())).unwrap_or_default()
                )
            }
        }
    }
}

/// What the OCSP responses at hand say about a certificate.
struct OcspFindings {
    /// The newest valid "good" answer (by thisUpdate, then fingerprint).
    good: Option<OcspStatus>,
    why: Vec<String>,
    unknown_said: Option<String>,
    needs: Vec<EvidenceNeed>,
    /// The last instant at which an answer for this certificate that is stale at T was
    /// still current (see `check_certificate`).
    stale_until: Option<UnixTime>,
    /// An answer was refused for an algorithm the policy does not allow (its own signature
    /// or its responder's path).
    algorithm_refused: RefusedForAlgorithm,
}

impl OcspFindings {
    /// Silent when OCSP has nothing to say (no response, no responder named): the other
    /// source's reason is then the whole story.
    fn reason(&self) -> String {
        let mut why = self.why.clone();
        if let Some(u) = &self.unknown_said {
            why.push(u.clone());
        }
        if !why.is_empty() {
            format!("OCSP: {}", why.join("; "))
        } else if !self.needs.is_empty() {
            "no OCSP response from the certificate's responder".to_string()
        } else {
            String::new()
        }
    }
}

/// OCSP (RFC 6960): every response the caller gave or fetched for this certificate, from
/// its issuer or a responder the issuer authorised, fresh at the validation time, becomes an
/// observation; refused ones say why.
fn check_ocsp(
    ctx: &PathContext<'_>,
    rc: &RevocationChecker<'_>,
    cert: &CertRef,
    issuer: &CertRef,
    anchor: &CertRef,
    observations: &mut Vec<Observation<Source>>,
) -> OcspFindings {
    let mut out = OcspFindings {
        good: None,
        why: Vec::new(),
        unknown_said: None,
        needs: Vec::new(),
        stale_until: None,
        algorithm_refused: RefusedForAlgorithm::default(),
    };
    let check = OcspCheck {
        skew: rc.ocsp_skew,
        legacy: ctx.policy.legacy_for_certificates(),
        min_rsa_bits: ctx.policy.min_rsa_bits,
        other_certs: ctx.pool.certs(),
        evidence_after_t: true,
        ..OcspCheck::new(ctx.at)
    };
    let mut any = false;
    for resp in rc.ocsp.for_serial(&cert.serial) {
        any = true;
        for single in resp.responses.iter().filter(|r| r.serial == cert.serial) {
            let limit = single
                .next_update
                .unwrap_or_else(|| single.this_update.saturating_add(check.max_age.max(0)))
                .saturating_add(check.skew.max(0));
            if limit < ctx.at {
                out.stale_until = out.stale_until.max(Some(limit));
            }
        }
        match validate_parsed(
            resp,
            cert,
            issuer,
            &check,
            ResponderAuthority::OnPath {
                ctx,
                anchor,
                revocation: rc,
            },
        ) {
            Ok(status) => {
                let said = match status.status {
                    CertStatus::Good if status.this_update > cert.not_after => {
                        out.why.push(silent_after_expiry(&status.describe(cert), cert));
                        continue;
                    }
                    CertStatus::Good => Said::Good,
                    CertStatus::Revoked { time, reason } => Said::Revoked { date: time, reason },
                    CertStatus::Unknown => {
                        out.unknown_said = Some(status.describe(cert));
                        continue;
                    }
                };
                // A revocation dated after T is "good at T" (`decide`, rule 2).
                let good_at_t = match said {
                    Said::Good => true,
                    Said::Revoked { date, .. } => date > ctx.at,
                };
                if good_at_t {
                    let newer = out.good.as_ref().is_none_or(|g| {
                        (status.this_update, status.response_fingerprint) > (g.this_update, g.response_fingerprint)
                    });
                    if newer {
                        out.good = Some(status.clone());
                    }
                }
                observations.push(Observation {
                    said,
                    this_update: status.this_update,
                    number: None,
                    scope: None,
                    covers_hold: true,
                    fingerprint: status.response_fingerprint,
                    source: Source::Ocsp(status),
                });
            }
            Err(e) => {
                if e.code == Code::AlgorithmNotAllowed {
                    out.algorithm_refused.ocsp.push(Arc::clone(resp));
                }
                out.why.push(e.reason);
                // What the responder's own path lacked: fetched, the answer may be usable.
                out.needs.extend(e.needs);
            }
        }
    }
    // Nothing for this serial: a response about another certificate of the same issuer is
    // still worth naming (a responder that answered the wrong question is not silence).
    if !any {
        if let Ok(bits) = subject_public_key_bits(issuer) {
            for alg in [DigestAlgorithm::Sha1, DigestAlgorithm::Sha256] {
                let hash = alg.digest(&bits);
                for resp in rc.ocsp.for_issuer_key_hash(&hash) {
                    if let Err(e) = validate_parsed(
                        resp,
                        cert,
                        issuer,
                        &check,
                        ResponderAuthority::OnPath {
                            ctx,
                            anchor,
                            revocation: rc,
                        },
                    ) {
                        out.why.push(e.reason);
                    }
                }
            }
        }
        // Responses that could not be read for any certificate (unsuccessful, unusable):
        // kept as evidence that decides nothing, and named here.
        out.why.extend(rc.ocsp.refused().iter().map(|r| r.to_string()));
    }
    if let Ok(urls) = ocsp_urls(cert) {
        if let Ok(request) = OcspRequest::new(cert, issuer, DigestAlgorithm::Sha1, None) {
            for url in urls.into_iter().filter(|u| u.starts_with("http://")) {
                out.needs.push(EvidenceNeed::Ocsp {
                    url,
                    request: request.clone(),
                });
            }
        }
    }
    if out.unknown_said.is_some() {
        // The responder answered: asking it again says nothing new.
        out.needs.clear();
    }
    out
}

/// What the CRLs at hand say about a certificate.
struct CrlFindings {
    /// Reasons covered by complete CRLs in scope, fresh at T, with a valid signer (RFC 5280
    /// §6.3.3 (d), (j)).
    coverage: ReasonMask,
    /// The newest such complete CRL (cRLNumber, thisUpdate, fingerprint) with its newest
    /// applicable delta: the CRL named when CRLs decide "good".
    newest: Option<(Arc<CrlIndex>, Option<Arc<CrlIndex>>)>,
    /// The validated path of the newest CRL's signer, when it is not the issuer.
    newest_signer_path: Option<Arc<ValidPath>>,
    why: Vec<String>,
    needs: Vec<EvidenceNeed>,
    /// The latest nextUpdate of a CRL in scope that is stale at T (see `check_certificate`).
    stale_until: Option<UnixTime>,
    /// A CRL in scope was refused for an algorithm the policy does not allow (its own
    /// signature or its signer's path).
    algorithm_refused: RefusedForAlgorithm,
}

impl CrlFindings {
    fn reason(&self, cert: &CertRef) -> String {
        let detail = if self.why.is_empty() {
            format!("no CRL from '{}' was supplied", cert.issuer)
        } else {
            self.why.join("; ")
        };
        if self.coverage.is_empty() {
            detail
        } else {
            format!(
                "the CRLs cover only the reasons {}: {detail}",
                self.coverage.names().join(", ")
            )
        }
    }
}

/// Evidence freshness at a time T in the past (the rule `stale` and this function
/// implement together, for CRLs and OCSP alike):
///
/// - Evidence issued at or before T speaks for T only while current: thisUpdate <= T <=
///   nextUpdate (RFC 5280 §6.3.3 (a); RFC 6960 §4.2.2.1).
/// - Evidence issued after T speaks for T: a revocation dated at or before T is a revocation
///   at T; "good", or a revocation dated after T, proves C was not revoked at T, because a
///   revocation is permanent (RFC 5280 §5.3.1; `decide`, rule 2). This is ETSI EN 319 102-1's
///   reading for validation at a past time (revocation status information issued after the
///   best signature time is what proves the certificate was not revoked then).
/// - But "good" only from evidence issued no later than the certificate's notAfter: a CA may
///   drop the entry of an expired certificate from its CRLs (RFC 5280 §3.3, §5.1.2.6) and an
///   OCSP responder may stop answering for it (RFC 6960 §4.4.4), so silence after expiry
///   proves nothing. A revocation listed after expiry still counts. (The ExpiredCertsOnCRL
///   and archiveCutoff extensions, which would lift this, are not read yet: such evidence is
///   refused for "good", never wrongly accepted.)
/// - A certificateHold is lifted at T only by evidence issued at or before T (`decide::lifts`).
fn silent_after_expiry(what: &str, cert: &CertRef) -> String {
    format!(
        "{what} was issued after {} expired ({}): a CA may drop expired certificates from its \
         revocation data (RFC 5280 §3.3), so its silence proves nothing about them",
        cert.describe(),
        to_rfc3339(cert.not_after)
    )
}

fn newness(c: &CrlIndex) -> (Option<CrlNumber>, UnixTime, [u8; 32]) {
    (c.crl_number.clone(), c.this_update, c.fingerprint())
}

fn stale(crl: &CrlIndex, at: UnixTime) -> Option<String> {
    // RFC 5280 §6.3.3 (a): a CRL whose nextUpdate has passed says nothing about T. One
    // issued after T is evidence about a later time (see `revocation::decide`, rule 2).
    match crl.next_update {
        Some(next) if next < at => Some(format!(
            "{} is stale at {}: nextUpdate was {}",
            crl.describe(),
            to_rfc3339(at),
            to_rfc3339(next)
        )),
        _ => None,
    }
}

fn observe(
    crl: &Arc<CrlIndex>,
    delta: Option<&Arc<CrlIndex>>,
    signer_path: &Option<Arc<ValidPath>>,
    said: Said,
    covers: ReasonMask,
) -> Observation<Source> {
    let newest = delta.unwrap_or(crl);
    Observation {
        said,
        this_update: newest.this_update,
        number: newest.crl_number.clone(),
        scope: Some(ScopeKey {
            issuer: crl.issuer.key().to_vec(),
            idp: crl.issuing_distribution_point.clone(),
        }),
        covers_hold: !covers.intersect(ReasonMask::CERTIFICATE_HOLD).is_empty(),
        fingerprint: newest.fingerprint(),
        source: Source::Crl {
            crl: Arc::clone(crl),
            delta: delta.cloned(),
            signer_path: signer_path.clone(),
        },
    }
}

fn said_by(entry: Option<&RevokedEntry>) -> Said {
    match entry {
        Some(e) => Said::Revoked {
            date: e.revocation_date,
            reason: e.reason,
        },
        None => Said::Good,
    }
}

/// CRLs (RFC 5280 §6.3.3): every complete CRL in scope and every delta on top of it is
/// judged; the valid ones become observations.
#[allow(clippy::too_many_arguments)]
fn check_crls(
    ctx: &PathContext<'_>,
    rc: &RevocationChecker<'_>,
    cert: &CertRef,
    issuer: &CertRef,
    issuer_key: Option<&PublicKey>,
    anchor: &CertRef,
    work: &CrlWork,
    observations: &mut Vec<Observation<Source>>,
) -> Result<CrlFindings, PathError> {
    let mut out = CrlFindings {
        coverage: ReasonMask::NONE,
        newest: None,
        newest_signer_path: None,
        why: Vec::new(),
        needs: Vec::new(),
        stale_until: None,
        algorithm_refused: RefusedForAlgorithm::default(),
    };
    let dps = match distribution_points(cert) {
        Ok(d) => d,
        Err(e) => {
            out.why.push(format!("its cRLDistributionPoints cannot be read: {e}"));
            return Ok(out);
        }
    };
    // Issuers whose CRLs could speak for this certificate: its issuer and the cRLIssuers
    // its distribution points name.
    let relevant = |name: &crate::x509::Name| {
        name.matches(&cert.issuer)
            || dps
                .iter()
                .flat_map(|d| d.crl_issuer.iter().flatten())
                .any(|g| matches!(g, GeneralNameValue::Directory(n) if n.matches(name)))
    };
    let mut found_complete = false;
    // What the paths of CRL signers lacked (see `crl_signer`).
    let mut signer_needs: Vec<EvidenceNeed> = Vec::new();
    let mut completes: Vec<&Arc<CrlIndex>> = rc.crls.all_complete().collect();
    // Judged in a fixed order (by fingerprint) so that which CRLs a budget cut leaves
    // unjudged, and the reasons listed, do not depend on the order they were given in.
    completes.sort_by_key(|c| c.fingerprint());
    for crl in completes {
        // §6.3.3 (b), (d): does this CRL cover this certificate, and for which reasons?
        let scope = match crl.scope_covers(cert, &dps) {
            Ok(m) => m,
            Err(e) => {
                if crl.issuer.matches(&cert.issuer) {
                    out.why.push(e.0);
                }
                continue;
            }
        };
        found_complete = true;
        // §6.3.3 (a): fresh at the validation time. Only a CRL's silence expires: a
        // revocation is permanent (RFC 5280 §5.3.1), so a stale CRL listing C as revoked
        // (not on hold, which may have been lifted since) at or before T still proves it
        // was revoked at T, whenever that CRL was issued. It decides that and nothing more
        // (no coverage for "good").
        let stale_at_t = stale(crl, ctx.at);
        if let Some(s) = &stale_at_t {
            let permanent = crl.lookup(&cert.issuer, &cert.serial).is_some_and(|e| {
                !e.is_removal()
                    && e.reason != Some(crate::revocation::crl::Reason::CertificateHold)
                    && e.revocation_date <= ctx.at
            });
            if !permanent {
                out.why.push(s.clone());
                out.stale_until = out.stale_until.max(crl.next_update);
                continue;
            }
        }
        // §6.3.3 (f): a CRL signer with cRLSign and a valid path.
        let signer = match crl_signer(ctx, rc, crl, cert, issuer, issuer_key, anchor, work)? {
            Ok(s) => s,
            Err(refusal) => {
                out.why.push(refusal.reason);
                if refusal.algorithm {
                    out.algorithm_refused.crls.push(Arc::clone(crl));
                    out.algorithm_refused.certificates.extend(refusal.certificates);
                    out.algorithm_refused.extend(refusal.nested);
                }
                signer_needs.extend(refusal.needs);
                continue;
            }
        };
        let entry = crl.lookup(&cert.issuer, &cert.serial).filter(|e| !e.is_removal());
        if stale_at_t.is_some() {
            observations.push(observe(crl, None, &signer.2, said_by(entry), ReasonMask::NONE));
            continue;
        }
        if entry.is_none() && crl.this_update > cert.not_after {
            out.why.push(silent_after_expiry(&crl.describe(), cert));
            continue;
        }
        observations.push(observe(crl, None, &signer.2, said_by(entry), scope));
        out.coverage = out.coverage.union(scope);
        // §6.3.3 (c): every delta CRL in scope, fresh, and signed by the same signer.
        let mut deltas: Vec<&Arc<CrlIndex>> = rc.crls.deltas_for(crl).collect();
        deltas.sort_by_key(|d| d.fingerprint());
        let mut newest_delta: Option<Arc<CrlIndex>> = None;
        for d in deltas {
            if let Err(e) = d.delta_applies_to(crl) {
                out.why.push(e.0);
                continue;
            }
            if let Some(s) = stale(d, ctx.at) {
                out.why.push(s);
                out.stale_until = out.stale_until.max(d.next_update);
                continue;
            }
            let signed = d.check_signer(&signer.0).and_then(|()| {
                work.charge(cert)
                    .map_err(|e| CrlError {
                        code: e.code,
                        reason: e.reason,
                    })
                    .and_then(|()| verify_crl_cached(ctx, d, &signer.1))
            });
            if let Err(e) = signed {
                if e.code == Code::BudgetExceeded {
                    return Err(PathError::new(e.code, e.reason));
                }
                if e.code == Code::AlgorithmNotAllowed {
                    out.algorithm_refused.crls.push(Arc::clone(d));
                }
                out.why.push(format!("{} cannot be used: {}", d.describe(), e.reason));
                continue;
            }
            // §6.3.3 (g)-(i): the delta's entry first (removeFromCRL: not revoked), else the
            // complete CRL's, as of the delta's time.
            match revocation_status(crl, Some(d), &cert.issuer, &cert.serial) {
                Ok(None) if d.this_update > cert.not_after => {
                    out.why.push(silent_after_expiry(&d.describe(), cert));
                    continue;
                }
                Ok(e) => observations.push(observe(crl, Some(d), &signer.2, said_by(e), scope)),
                Err(e) => {
                    out.why.push(e.0);
                    continue;
                }
            }
            if newest_delta.as_ref().is_none_or(|n| newness(d) > newness(n)) {
                newest_delta = Some(Arc::clone(d));
            }
        }
        if out.newest.as_ref().is_none_or(|(n, _)| newness(crl) > newness(n)) {
            out.newest = Some((Arc::clone(crl), newest_delta));
            out.newest_signer_path = signer.2.clone();
        }
    }
    // Deltas without any complete CRL of their scope, and CRLs refused as evidence.
    if !found_complete {
        for d in rc.crls.deltas_of(&cert.issuer) {
            out.why.push(format!(
                "only {} was supplied: a delta CRL applies only on top of its complete base CRL \
                 (RFC 5280 §5.2.4, §6.3.3 (c)), and no complete CRL of '{}' in scope was supplied",
                d.describe(),
                cert.issuer
            ));
        }
    }
    for r in rc.crls.refused() {
        if relevant(&r.issuer) {
            if let Some(e) = &r.defect {
                // The defect names the CRL by its issuer already; name it once.
                let prefix = format!("CRL of '{}': ", r.issuer);
                let why = e.reason.strip_prefix(&prefix).unwrap_or(&e.reason);
                out.why.push(format!("{} was refused: {why}", r.describe()));
            }
        }
    }
    out.why.dedup();
    // What could decide it: what a CRL at hand lacks to be usable (its signer's issuer, the
    // signer's own status), while some of that can still be fetched, and only then the CRLs
    // named by the certificate (asking again for a CRL at hand would be answered "did not
    // decide" and reported as a failed source although the round that follows decides).
    let mut needs: Vec<EvidenceNeed> = signer_needs;
    if needs.iter().all(|n| rc.fetch_failures.get(n.url()).is_some()) {
        needs.extend(
            dps.iter()
                .flat_map(|d| d.uris())
                .filter(|u| u.starts_with("http://"))
                .map(|u| EvidenceNeed::Crl { url: u.to_string() }),
        );
    }
    needs.sort();
    needs.dedup();
    out.needs = needs;
    Ok(out)
}

/// A CRL's signature by a signer key is checked once per engine: every document signed
/// under the same CA shares the verdict. Keyed by (signer key, CRL), not by certificate:
/// many certificates with one key (a stuffed document's same-named CAs) share one entry.
fn verify_crl_cached(ctx: &PathContext<'_>, crl: &CrlIndex, key: &PublicKey) -> Result<(), CrlError> {
    // The key's identity includes DSA parameters inherited along a path (RFC 5280 §6.1.4
    // (k)), which its SPKI alone does not carry.
    let mut id = key.spki_der().to_vec();
    if let Some(params) = key.dsa_params_der() {
        id.extend_from_slice(&params);
    }
    let k = (crate::x509::cert::fingerprint(&id), crl.fingerprint());
    if let Some(r) = ctx.edges.get(&k) {
        return r.map_err(|e| CrlError {
            code: e.code,
            reason: e.reason,
        });
    }
    let r = crl.verify_signature(key, ctx.policy.legacy_for_certificates(), ctx.policy.min_rsa_bits);
    ctx.edges
        .put(k, r.clone().map_err(|e| PathError::new(e.code, e.reason)));
    r
}

fn undetermined(
    rc: &RevocationChecker<'_>,
    code: Code,
    cert: &CertRef,
    detail: String,
    needs: Vec<EvidenceNeed>,
    refused: Vec<String>,
    refused_for_algorithm: RefusedForAlgorithm,
) -> Result<RevocationEvidence, PathError> {
    let reason = format!("revocation status of {} is unknown: {detail}", cert.describe());
    match rc.mode {
        RevocationMode::HardFail => Err(algorithm_verdict(
            cert,
            PathError {
                needs,
                ..PathError::new(code, reason)
            },
            refused_for_algorithm,
        )),
        _ => Ok(unknown_evidence(cert, reason, needs, refused)),
    }
}

fn unknown_evidence(
    cert: &CertRef,
    reason: String,
    needs: Vec<EvidenceNeed>,
    refused: Vec<String>,
) -> RevocationEvidence {
    RevocationEvidence {
        certificate: Arc::clone(cert),
        status: RevocationStatus::Unknown(reason.into()),
        crl: None,
        delta: None,
        ocsp: None,
        needs,
        refused,
        valid_until: None,
        valid_from: None,
        revoked_at: None,
        revoked_reason: None,
        crl_signer_path: None,
        refused_for_algorithm: RefusedForAlgorithm::default(),
    }
}

/// A CRL's signer: its certificate, its key, and its validated path when it is not the
/// issuer of the certificate in question (kept as evidence).
type CrlSigner = (CertRef, PublicKey, Option<Arc<ValidPath>>);

/// Why no signer of a CRL will do: the reason, what the candidates' paths lacked, and
/// whether an algorithm the policy does not allow was among the causes.
struct SignerRefusal {
    reason: String,
    needs: Vec<EvidenceNeed>,
    algorithm: bool,
    /// Candidate signers whose own path was refused for its algorithm, with that path.
    certificates: Vec<CertRef>,
    /// The evidence of those paths' statuses, refused or not.
    nested: RefusedForAlgorithm,
}

/// The certificate that signed `crl`: the certificate's issuer when it is the CRL issuer,
/// else another certificate (pool or anchors) with its own valid path (RFC 5280 §6.3.3 (f);
/// indirect CRLs and separate CRL-signing keys). Every signature check is charged to
/// `work`; running out of it is fatal (the outer `Err`). When no signer will do, the
/// inner `Err` says why and carries what the signers' paths lacked (a caIssuers URL of a
/// CRL signer whose issuer is nowhere at hand, the signer's own CRL): fetched, it could
/// make the CRL usable, so the caller names it beside the CRL's own location.
#[allow(clippy::too_many_arguments)]
fn crl_signer(
    ctx: &PathContext<'_>,
    rc: &RevocationChecker<'_>,
    crl: &CrlIndex,
    cert: &CertRef,
    issuer: &CertRef,
    issuer_key: Option<&PublicKey>,
    anchor: &CertRef,
    work: &CrlWork,
) -> Result<Result<CrlSigner, SignerRefusal>, PathError> {
    let mut errors = Vec::new();
    let mut needs: Vec<EvidenceNeed> = Vec::new();
    let mut algorithm = false;
    let mut certificates: Vec<CertRef> = Vec::new();
    // What decided the refused candidates' own paths (their CRLs, what was refused there).
    let mut nested_evidence = RefusedForAlgorithm::default();
    if crl.is_signer_candidate(issuer) {
        work.charge(cert)?;
        let checked = crl.check_signer(issuer).and_then(|()| match issuer_key {
            Some(k) => verify_crl_cached(ctx, crl, k).map(|()| k.clone()),
            None => issuer
                .public_key
                .clone()
                .map_err(|e| CrlError {
                    code: Code::CrlInvalid,
                    reason: e.to_string(),
                })
                .and_then(|k| verify_crl_cached(ctx, crl, &k).map(|()| k)),
        });
        match checked {
            Ok(k) => return Ok(Ok((Arc::clone(issuer), k, None))),
            Err(e) => {
                algorithm |= e.code == Code::AlgorithmNotAllowed;
                errors.push(e.reason);
            }
        }
    }
    let candidates = ctx
        .anchors
        .anchors()
        .iter()
        .chain(ctx.pool.certs().iter())
        .filter(|c| c.fingerprint != issuer.fingerprint && crl.is_signer_candidate(c));
    for cand in candidates {
        if let Err(e) = crl.check_signer(cand) {
            errors.push(e.reason);
            continue;
        }
        let key = match cand.public_key.clone() {
            Ok(k) => k,
            Err(e) => {
                errors.push(format!("cannot use the key of CRL signer {}: {e}", cand.describe()));
                continue;
            }
        };
        work.charge(cert)?;
        if let Err(e) = verify_crl_cached(ctx, crl, &key) {
            algorithm |= e.code == Code::AlgorithmNotAllowed;
            errors.push(e.reason);
            continue;
        }
        // A CRL issuer's certificate may be covered by its own CRL (an indirect CRL that
        // lists the cRLIssuer too, PKITS 4.14.30): its path is the one being validated.
        if ctx.anchors.contains(&cand.fingerprint) || cand.fingerprint == cert.fingerprint {
            return Ok(Ok((Arc::clone(cand), key, None)));
        }
        if rc.depth >= MAX_CRL_SIGNER_DEPTH {
            errors.push(format!(
                "the path of CRL signer {} is nested too deeply to validate",
                cand.describe()
            ));
            continue;
        }
        let rule = KeyUsageRule {
            any_of: vec![key_usage::CRL_SIGN],
        };
        // The signer's own path, its revocation checked one level deeper.
        let nested = rc.nested(rc.mode);
        let sub = PathContext {
            leaf_key_usage: &rule,
            revocation: &nested,
            ..*ctx
        };
        match build_and_validate(&sub, cand) {
            // RFC 5280 §6.3.3 (f) asks for the CRL signer's path to share the certificate's
            // trust anchor.
            Ok(p) if p.anchor.fingerprint == anchor.fingerprint => {
                return Ok(Ok((Arc::clone(cand), key, Some(Arc::new(p)))))
            }
            Ok(_) => errors.push(format!("CRL signer {} chains to another trust anchor", cand.describe())),
            Err(e) => {
                if e.code == Code::AlgorithmNotAllowed {
                    algorithm = true;
                    certificates.push(Arc::clone(cand));
                    if let Some(d) = &e.decided_by.0 {
                        certificates.extend(d.0.iter().cloned());
                        for ev in &d.1 {
                            nested_evidence
                                .crls
                                .extend(ev.crl.iter().chain(ev.delta.iter()).cloned());
                            nested_evidence.extend(ev.refused_for_algorithm.clone());
                        }
                    }
                }
                errors.push(format!("CRL signer {}: {}", cand.describe(), e.reason));
                needs.extend(e.needs);
            }
        }
    }
    if errors.is_empty() {
        errors.push(format!("no certificate for the CRL issuer '{}' was found", crl.issuer));
    }
    errors.dedup();
    Ok(Err(SignerRefusal {
        reason: format!("{} cannot be used: {}", crl.describe(), errors.join("; ")),
        needs,
        algorithm,
        certificates,
        nested: nested_evidence,
    }))
}
