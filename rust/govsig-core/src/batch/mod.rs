//! The bulk engine: one `Engine` per verifier holds the policy, the anchors and the caches
//! shared across documents (interned certificates, verified chain edges, validated paths);
//! batches run on a rayon pool and results come back in input order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use rayon::prelude::*;

use crate::cms::verify::{verify_document, verify_document_keeping_content, TimePolicy, TrustContext, VerifyOutcome};
use crate::outcome::Code;
use crate::policy::Policy;
use crate::revocation::crl::CrlIndex;
use crate::revocation::ocsp::OcspResponse;
use crate::revocation::{CrlSet, FetchFailures, OcspStore, RevocationChecker};
use crate::revocation::{EdgeCache, PathContext, PathError, ValidPath};
use crate::time::UnixTime;
use crate::tsp::{Stamped, TimestampOutcome};
use crate::x509::cert::CertRef;
use crate::x509::path::build_and_validate;
use crate::x509::{CertInterner, CertPool, TrustStore};

/// Cached result of path validation for one signer certificate.
#[derive(Clone)]
enum PathEntry {
    /// Valid for documents that carry the same CRLs (`crl_set`) and supply its intermediates.
    Valid {
        path: Arc<ValidPath>,
        crl_set: [u8; 32],
        generation: u64,
    },
    /// A failure, valid only for the same set of document certificates.
    Invalid {
        doc_set: [u8; 32],
        at: UnixTime,
        err: PathError,
        generation: u64,
    },
}

/// A verification engine: immutable configuration plus shared caches.
pub struct Engine {
    policy: Policy,
    trust: Option<TrustStore>,
    /// The anchors of time-stamping authorities (`tsa_trust`); `None`: the trust store.
    tsa_trust: Option<TrustStore>,
    /// Where a TSA certificate a token does not carry is looked for: the policy's
    /// intermediates, then the TSA anchors.
    tsa_candidates: Vec<CertRef>,
    intermediates: Vec<CertRef>,
    /// The policy's intermediates then the anchors: where a signer certificate that the
    /// CMS does not carry is looked for.
    signer_candidates: Vec<CertRef>,
    interner: CertInterner,
    crls: CrlSet,
    crl_interner: RwLock<HashMap<[u8; 32], Arc<CrlIndex>>>,
    /// OCSP responses given by the policy.
    ocsp: OcspStore,
    /// Evidence fetched on the core's request, and a generation counter that invalidates
    /// cached path verdicts when new evidence arrives. Shared, not copied, by every
    /// validation (a writer copies it only when a validation still holds the old one).
    fetched: RwLock<Arc<Fetched>>,
    /// The latest validation time asked about: what fetched evidence is judged stale by
    /// when it is pruned (`revocation::prune`).
    latest_at: std::sync::atomic::AtomicI64,
    edges: EdgeCache,
    /// Validated paths by (leaf fingerprint, built to the `tsa_trust` anchors).
    paths: RwLock<HashMap<([u8; 32], bool), PathEntry>>,
    /// Paths built and validated (cache misses), for tests and benches.
    path_builds: std::sync::atomic::AtomicU64,
    /// The pool the last sized batch ran on: one per engine at most, shared across the
    /// process by size (see crate::threads).
    pool: Mutex<Option<Arc<rayon::ThreadPool>>>,
}

/// Limits that keep an engine's memory flat over millions of documents.
const MAX_INTERNED: usize = 200_000;
const MAX_PATHS: usize = 200_000;

impl Engine {
    pub fn new(
        policy: Policy,
        trust: Option<TrustStore>,
        intermediates: Vec<CertRef>,
        crls: Vec<Arc<CrlIndex>>,
    ) -> Engine {
        let mut signer_candidates = intermediates.clone();
        if let Some(t) = &trust {
            signer_candidates.extend(t.anchors().iter().cloned());
        }
        Engine {
            policy,
            trust,
            tsa_trust: None,
            tsa_candidates: signer_candidates.clone(),
            intermediates,
            signer_candidates,
            interner: CertInterner::with_limit(MAX_INTERNED),
            crls: CrlSet::new(crls),
            crl_interner: RwLock::new(HashMap::new()),
            ocsp: OcspStore::default(),
            fetched: RwLock::new(Arc::new(Fetched::default())),
            latest_at: std::sync::atomic::AtomicI64::new(i64::MIN),
            edges: EdgeCache::default(),
            paths: RwLock::new(HashMap::new()),
            path_builds: std::sync::atomic::AtomicU64::new(0),
            pool: Mutex::new(None),
        }
    }

    /// Time-stamping authorities are trusted by these anchors instead of the trust store.
    pub fn with_tsa_trust(mut self, tsa_trust: TrustStore) -> Engine {
        let mut c = self.intermediates.clone();
        c.extend(tsa_trust.anchors().iter().cloned());
        self.tsa_candidates = c;
        self.tsa_trust = Some(tsa_trust);
        self
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn trust(&self) -> Option<&TrustStore> {
        self.trust.as_ref()
    }

    /// How many paths were built and validated so far: calls the path cache did not answer.
    pub fn path_builds(&self) -> u64 {
        self.path_builds.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn interner(&self) -> &CertInterner {
        &self.interner
    }

    /// The validation time of a call: the policy's, else now.
    pub fn default_time(&self) -> UnixTime {
        self.policy.at.unwrap_or_else(crate::time::now)
    }

    /// Verifies one document at the policy's time (or now).
    pub fn verify(&self, signature: &[u8], content: Option<&[u8]>) -> VerifyOutcome {
        self.verify_at(signature, content, self.default_time())
    }

    /// Verifies one document at `at`: the caller's clock (a service's, or a test's simulated
    /// one) instead of the policy's time.
    pub fn verify_at(&self, signature: &[u8], content: Option<&[u8]>, at: UnixTime) -> VerifyOutcome {
        let ctx = DocContext { engine: self, at };
        guarded(|| verify_document_keeping_content(&ctx, signature, content))
    }

    /// Verifies a batch on `threads` threads (None = all cores); results in input order.
    pub fn verify_batch(&self, items: &[(&[u8], Option<&[u8]>)], threads: Option<usize>) -> Vec<VerifyOutcome> {
        self.verify_batch_at(items, threads, self.default_time())
    }

    /// `verify_batch` with every document judged at `at` (one time for the whole batch).
    pub fn verify_batch_at(
        &self,
        items: &[(&[u8], Option<&[u8]>)],
        threads: Option<usize>,
        at: UnixTime,
    ) -> Vec<VerifyOutcome> {
        let run = || -> Vec<VerifyOutcome> {
            items
                .par_iter()
                .with_min_len(1)
                .map(|(sig, content)| {
                    let ctx = DocContext { engine: self, at };
                    guarded(|| verify_document(&ctx, sig, *content))
                })
                .collect()
        };
        match threads {
            None | Some(0) => run(),
            Some(n) => match self.pool(n) {
                Some(pool) => pool.install(run),
                None => run(),
            },
        }
    }

    /// A pool of `n` threads (capped at crate::threads::max_threads). The engine keeps only
    /// the last one: switching sizes releases the previous pool instead of hoarding one per
    /// size for the engine's lifetime.
    pub(crate) fn pool(&self, n: usize) -> Option<Arc<rayon::ThreadPool>> {
        let n = n.min(crate::threads::max_threads());
        let mut kept = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = kept.as_ref().filter(|p| p.current_num_threads() == n) {
            return Some(Arc::clone(p));
        }
        let p = crate::threads::shared_pool(n)?;
        *kept = Some(Arc::clone(&p));
        Some(p)
    }

    /// Adds fetched CRLs (DER) as evidence for later verifications; returns how many were new.
    /// Unparsable ones are returned with their error, in input order.
    pub fn add_fetched_crls(&self, ders: &[&[u8]]) -> (usize, Vec<(usize, String)>) {
        let mut errors = Vec::new();
        let mut parsed = Vec::new();
        for (i, der) in ders.iter().enumerate() {
            // Like a CRL given up front or carried in a document, a fetched CRL that breaks
            // the profile is kept as refused evidence (results say why); only bytes that are
            // not a CRL at all are the fetch's failure.
            match CrlIndex::from_der_as_evidence(der) {
                Ok(c) => parsed.push(Arc::new(c)),
                Err(e) => errors.push((i, e.reason)),
            }
        }
        let mut added = 0;
        if let Ok(mut guard) = self.fetched.write() {
            let f = Arc::make_mut(&mut *guard);
            let before = f.crls.len();
            for c in parsed {
                f.crls.add(c);
            }
            added = f.crls.len() - before;
            if added > 0 {
                self.refresh(f);
            }
        }
        (added, errors)
    }

    /// Adds what caIssuers URLs served (RFC 5280 §4.2.2.1: a DER certificate or a
    /// certs-only PKCS#7 ".p7c"; BER and PEM forms are read too) as untrusted intermediates
    /// for later verifications: they can complete a path, never anchor one. Returns how many
    /// certificates were new, and the items that held no usable certificate with why.
    pub fn add_fetched_issuers(&self, ders: &[&[u8]]) -> (usize, Vec<(usize, String)>) {
        let mut errors = Vec::new();
        let mut parsed: Vec<CertRef> = Vec::new();
        for (i, der) in ders.iter().enumerate() {
            match fetched_certificates(der) {
                Ok(items) => {
                    let mut good = 0;
                    let mut why = String::new();
                    for item in items.iter().take(MAX_ISSUERS_PER_BUNDLE) {
                        match self.interner.get_or_parse(item) {
                            Ok(c) => {
                                good += 1;
                                parsed.push(c);
                            }
                            Err(e) => why = e.0,
                        }
                    }
                    if good == 0 {
                        errors.push((i, format!("not a usable certificate: {why}")));
                    }
                }
                Err(e) => errors.push((i, e)),
            }
        }
        let mut added = 0;
        if let Ok(mut guard) = self.fetched.write() {
            let f = Arc::make_mut(&mut *guard);
            for c in parsed {
                if f.issuers.len() >= MAX_FETCHED_ISSUERS {
                    break;
                }
                if !f.issuers.iter().any(|x| x.fingerprint == c.fingerprint) {
                    f.issuers.push(c);
                    added += 1;
                }
            }
            if added > 0 {
                f.generation += 1;
            }
        }
        (added, errors)
    }

    /// Adds fetched OCSP responses (DER); returns how many were new, and the unparsable
    /// ones with their error.
    pub fn add_fetched_ocsp(&self, ders: &[&[u8]]) -> (usize, Vec<(usize, String)>) {
        let mut errors = Vec::new();
        let mut parsed = Vec::new();
        for (i, der) in ders.iter().enumerate() {
            match OcspResponse::from_der(der) {
                Ok(r) => parsed.push(Arc::new(r)),
                Err(e) => errors.push((i, e.reason)),
            }
        }
        let mut added = 0;
        if let Ok(mut guard) = self.fetched.write() {
            let f = Arc::make_mut(&mut *guard);
            let before = f.ocsp.len();
            for r in parsed {
                f.ocsp.add(r);
            }
            added = f.ocsp.len() - before;
            if added > 0 {
                self.refresh(f);
            }
        }
        (added, errors)
    }

    /// Records evidence the caller could not fetch: statuses only it could decide become
    /// `fetch_failed` (hard-fail) with the reason, and it is not asked for again until
    /// `forget_fetch_failures` (the caller decides when to retry; the core has no clock).
    /// `fetch_failed` is false for evidence that came but decided nothing.
    pub fn add_fetch_failures(&self, failures: Vec<(String, String)>, fetch_failed: bool) {
        if failures.is_empty() {
            return;
        }
        if let Ok(mut guard) = self.fetched.write() {
            let f = Arc::make_mut(&mut *guard);
            for (url, reason) in failures {
                f.failures
                    .insert(url, crate::revocation::FetchFailure { reason, fetch_failed });
            }
            f.generation += 1;
        }
    }

    /// Forgets what `add_fetch_failures` recorded for these URLs, so that a status they
    /// left undecided names them in its needs again: the caller's retry time for a failed
    /// fetch has come, or what it fetched from them went stale and is to be refreshed.
    /// Cached path verdicts are recomputed (they may rest on those failures, or on that
    /// evidence). Returns how many failures were forgotten.
    pub fn forget_fetch_failures(&self, urls: &[String]) -> usize {
        if urls.is_empty() {
            return 0;
        }
        let mut forgotten = 0;
        if let Ok(mut guard) = self.fetched.write() {
            let f = Arc::make_mut(&mut *guard);
            for url in urls {
                forgotten += usize::from(f.failures.remove(url).is_some());
            }
            f.generation += 1;
        }
        forgotten
    }

    /// Forgets fetched CRLs and OCSP responses (by their DER, as handed to
    /// `add_fetched_*`) that went stale by the caller's clock. Fetched evidence lives as
    /// long as the fetcher's caches would serve it: once stale it stops deciding, also for a
    /// past validation time, so the status is asked for again (a CRL published since may date
    /// a revocation before that time) and a long-lived engine says what a fresh one would.
    /// Evidence given in the policy or carried by documents is never forgotten. Cached path
    /// verdicts are recomputed. Returns how many items were forgotten.
    pub fn forget_fetched(&self, ders: &[&[u8]]) -> usize {
        if ders.is_empty() {
            return 0;
        }
        let gone: std::collections::HashSet<[u8; 32]> =
            ders.iter().map(|d| crate::x509::cert::fingerprint(d)).collect();
        let mut forgotten = 0;
        if let Ok(mut guard) = self.fetched.write() {
            let f = Arc::make_mut(&mut *guard);
            let before = f.crls.len() + f.ocsp.len();
            f.crls.retain(|c| !gone.contains(&c.fingerprint()));
            f.ocsp.retain(|r| !gone.contains(&r.fingerprint));
            forgotten = before - (f.crls.len() + f.ocsp.len());
            if forgotten > 0 {
                f.pruned = f.pruned.saturating_add(u64::try_from(forgotten).unwrap_or(u64::MAX));
                self.refresh(f);
            }
        }
        forgotten
    }

    /// Adds OCSP responses given up front (the policy's), parsed once. `Err` only for an
    /// item that is not an OCSPResponse at all (naming its index); one that is but cannot
    /// be used (unsuccessful, malformed inside) is kept as refused evidence, with why.
    pub fn with_ocsp_responses(mut self, ders: &[&[u8]]) -> Result<Engine, String> {
        for (i, der) in ders.iter().enumerate() {
            match OcspResponse::from_der(der) {
                Ok(r) => self.ocsp.add(Arc::new(r)),
                Err(e) => {
                    OcspResponse::check_outer(der)
                        .map_err(|o| format!("ocsp_responses[{i}] is not an OCSP response: {}", o.reason))?;
                    self.ocsp.add_refused(e.reason, crate::x509::cert::fingerprint(der));
                }
            }
        }
        Ok(self)
    }

    /// Parses (once per engine, interned by fingerprint) a CRL carried by a document.
    pub fn crl(&self, der: &[u8]) -> Result<Arc<CrlIndex>, String> {
        let fp = crate::x509::cert::fingerprint(der);
        if let Ok(m) = self.crl_interner.read() {
            if let Some(c) = m.get(&fp) {
                return Ok(Arc::clone(c));
            }
        }
        // A CRL that breaks the profile is kept (as refused evidence, with why).
        let c = Arc::new(CrlIndex::from_der_as_evidence(der).map_err(|e| e.reason)?);
        if let Ok(mut m) = self.crl_interner.write() {
            if m.len() >= 4096 {
                m.clear();
            }
            m.insert(fp, Arc::clone(&c));
        }
        Ok(c)
    }

    /// Validates a certificate path for `leaf` with extra untrusted certificates.
    pub fn validate_path(
        &self,
        leaf: &CertRef,
        untrusted: &[CertRef],
        doc_crls: &[Arc<CrlIndex>],
        at: UnixTime,
    ) -> Result<Arc<ValidPath>, PathError> {
        self.validate_path_in(Anchors::Signers, leaf, untrusted, doc_crls, &[], at)
    }

    /// `validate_path` against the anchors of `which` (the trust store, or `tsa_trust`).
    ///
    /// The chain cache: a validated path is stored with the window in which its verdict
    /// holds (`ValidPath::valid_from..=valid_until`: every certificate's validity, every
    /// deciding CRL's and OCSP answer's nextUpdate, the day before a revocation dated after
    /// the validation time, the release of a hold). A document judged at another time T —
    /// its own signature time — reuses the cached path whenever T falls in that window, so
    /// documents signed at different times by one certificate share the path work.
    ///
    /// `doc_ocsp`: OCSP answers the document carries (a PDF's DSS), evidence for this call
    /// only, like `doc_crls`; the cache keys on them as on the CRLs.
    fn validate_path_in(
        &self,
        which: Anchors,
        leaf: &CertRef,
        untrusted: &[CertRef],
        doc_crls: &[Arc<CrlIndex>],
        doc_ocsp: &[Arc<OcspResponse>],
        at: UnixTime,
    ) -> Result<Arc<ValidPath>, PathError> {
        let (trust, cache_key) = match (which, &self.tsa_trust) {
            // Paths to TSA anchors are cached apart: a certificate trusted as a TSA is not
            // thereby trusted as a document signer, nor the reverse.
            (Anchors::Tsa, Some(t)) => (t, (leaf.fingerprint, true)),
            _ => match &self.trust {
                Some(t) => (t, (leaf.fingerprint, false)),
                None => return Err(PathError::new(Code::ChainUntrusted, "no trust store configured")),
            },
        };
        self.latest_at.fetch_max(at, std::sync::atomic::Ordering::Relaxed);
        let fetched = self.fetched.read().map(|f| Arc::clone(&f)).unwrap_or_default();
        let generation = fetched.generation;
        // The document's evidence: its CRLs, then its OCSP answers (marked apart, so a CRL
        // and an answer with the same bytes cannot stand for each other).
        let crl_fps: Vec<[u8; 32]> = doc_crls
            .iter()
            .map(|c| c.fingerprint())
            .chain(doc_ocsp.iter().map(|r| set_digest([r.fingerprint, [0x6f; 32]].iter())))
            .collect();
        let crl_set = set_digest(crl_fps.iter());
        // Only a cached failure, or a failure to cache, needs the document's set.
        let doc_set = || set_digest(untrusted.iter().map(|c| &c.fingerprint).chain(crl_fps.iter()));
        if let Ok(m) = self.paths.read() {
            match m.get(&cache_key) {
                // A cached path is reused only when this document (or the policy) supplies
                // its intermediates too: the verdict on a document never depends on what
                // other documents carried before it.
                Some(PathEntry::Valid {
                    path: p,
                    crl_set: cs,
                    generation: g,
                }) if *cs == crl_set
                    && *g == generation
                    && p.valid_from <= at
                    && at <= p.valid_until
                    && p.certs.iter().skip(1).all(|c| {
                        untrusted
                            .iter()
                            .chain(self.intermediates.iter())
                            .chain(fetched.issuers.iter())
                            .any(|u| u.fingerprint == c.fingerprint)
                            || p.anchor.fingerprint == c.fingerprint
                    }) =>
                {
                    return Ok(Arc::clone(p))
                }
                Some(PathEntry::Invalid {
                    doc_set: d,
                    at: a,
                    err,
                    generation: g,
                }) if *a == at && *g == generation && *d == doc_set() => return Err(err.clone()),
                _ => {}
            }
        }
        let mut pool = CertPool::new();
        // Issuers fetched by caIssuers join as untrusted intermediates, after the document's
        // and the policy's: they can complete a path, never anchor one.
        for c in untrusted
            .iter()
            .chain(self.intermediates.iter())
            .chain(fetched.issuers.iter())
        {
            pool.add(Arc::clone(c));
        }
        // The policy's and the fetched evidence are merged once per change (`refresh`);
        // only a document that carries CRLs pays for a merge here.
        let merged;
        let crls = match (&fetched.all_crls, doc_crls.is_empty()) {
            (None, true) => &self.crls,
            (Some(all), true) => all,
            (all, false) => {
                merged = all
                    .as_ref()
                    .unwrap_or(&self.crls)
                    .merged(&CrlSet::new(doc_crls.iter().cloned()));
                &merged
            }
        };
        // The same for OCSP: a document's own answers (a PDF's DSS) count for it alone.
        let merged_ocsp;
        let base_ocsp = fetched.all_ocsp.as_ref().unwrap_or(&self.ocsp);
        let ocsp = if doc_ocsp.is_empty() {
            base_ocsp
        } else {
            let mut m = base_ocsp.clone();
            for r in doc_ocsp {
                m.add(Arc::clone(r));
            }
            merged_ocsp = m;
            &merged_ocsp
        };
        // Revocation is injected into path building; the checker composes the nested
        // paths (CRL signers, OCSP responders) itself.
        let checker = RevocationChecker {
            crls,
            ocsp,
            sources: &self.policy.revocation_sources,
            ocsp_skew: self.policy.ocsp_skew,
            fetch_failures: &fetched.failures,
            mode: self.policy.revocation,
            depth: 0,
        };
        let ctx = PathContext {
            policy: &self.policy,
            at,
            anchors: trust,
            pool: &pool,
            edges: &self.edges,
            leaf_key_usage: &self.policy.signer_key_usage,
            revocation: &checker,
        };
        self.path_builds.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let r = build_and_validate(&ctx, leaf)
            .map(Arc::new)
            .map_err(|e| issuer_fetch_failures(e, &fetched.failures));
        if let Ok(mut m) = self.paths.write() {
            if m.len() >= MAX_PATHS {
                m.clear();
            }
            let entry = match &r {
                Ok(p) => PathEntry::Valid {
                    path: Arc::clone(p),
                    crl_set,
                    generation,
                },
                Err(e) => PathEntry::Invalid {
                    doc_set: doc_set(),
                    at,
                    err: e.clone(),
                    generation,
                },
            };
            m.insert(cache_key, entry);
        }
        r
    }
}

/// The verdict on one certificate path (`verify_certificate`).
#[derive(Clone, Debug)]
pub struct PathOutcome {
    pub code: Code,
    pub reason: String,
    /// Leaf first, anchor last; empty unless validation succeeded.
    pub chain: Vec<CertRef>,
    pub user_constrained_policy_set: Vec<String>,
    pub revocation: Vec<crate::revocation::RevocationEvidence>,
    /// Evidence that could decide an unknown revocation status.
    pub needs: Vec<crate::revocation::EvidenceNeed>,
}

impl PathOutcome {
    /// A refusal with no chain and no evidence.
    pub fn failure(code: Code, reason: impl Into<String>) -> Self {
        PathOutcome {
            code,
            reason: reason.into(),
            chain: Vec::new(),
            user_constrained_policy_set: Vec::new(),
            revocation: Vec::new(),
            needs: Vec::new(),
        }
    }
}

impl Engine {
    /// Validates the path of one certificate (DER) with extra untrusted certificates, at the
    /// policy's time (or now). Never panics on input.
    pub fn verify_certificate(&self, leaf_der: &[u8], intermediates: &[&[u8]]) -> PathOutcome {
        self.verify_certificate_at(leaf_der, intermediates, self.default_time())
    }

    /// `verify_certificate` at `at` instead of the policy's time.
    pub fn verify_certificate_at(&self, leaf_der: &[u8], intermediates: &[&[u8]], at: UnixTime) -> PathOutcome {
        let fail = |code: Code, reason: String| PathOutcome::failure(code, reason);
        let leaf = match self.interner.get_or_parse(leaf_der) {
            Ok(c) => c,
            Err(e) => return fail(Code::CertMalformed, format!("the certificate is not valid X.509: {e}")),
        };
        // Unreadable intermediates cannot be on any path; they are left out, not fatal.
        let extra: Vec<CertRef> = intermediates
            .iter()
            .filter_map(|d| self.interner.get_or_parse(d).ok())
            .collect();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.validate_path(&leaf, &extra, &[], at)
        }));
        match r {
            Ok(Ok(p)) => PathOutcome {
                code: Code::Ok,
                reason: String::new(),
                chain: p.chain(),
                user_constrained_policy_set: p.user_constrained_policy_set.clone(),
                revocation: p.revocation.clone(),
                needs: p.revocation.iter().flat_map(|e| e.needs.iter().cloned()).collect(),
            },
            Ok(Err(e)) => PathOutcome {
                needs: e.needs.clone(),
                ..fail(e.code, e.reason)
            },
            // A bug, not a verdict on the certificate: never `cert_malformed`.
            Err(_) => fail(
                Code::InternalError,
                "internal error while validating this certificate (a bug in govsig, please report it)".into(),
            ),
        }
    }
}

/// A path error's caIssuers needs whose URL could not be fetched, or served nothing that
/// completed the path, leave the needs and join the reason, naming the URL and why: the
/// caller sees which publication point failed instead of a bare "no issuer found".
fn issuer_fetch_failures(mut e: PathError, failures: &FetchFailures) -> PathError {
    let mut said = Vec::new();
    e.needs.retain(|n| match n {
        crate::need::EvidenceNeed::Issuer { url } => match failures.get(url) {
            Some(f) => {
                said.push(format!("{url}: {}", f.reason));
                false
            }
            None => true,
        },
        _ => true,
    });
    if !said.is_empty() {
        e.reason = format!(
            "{} (the issuer could not be had from its caIssuers URL {})",
            e.reason,
            said.join("; ")
        );
    }
    e
}

/// At most this many fetched issuer certificates are held by an engine, and at most this
/// many are taken from one fetched bundle: caIssuers URLs are named by the documents, so
/// what they serve must not grow an engine without bound.
const MAX_FETCHED_ISSUERS: usize = 4096;
const MAX_ISSUERS_PER_BUNDLE: usize = 64;

/// Evidence fetched on the core's request.
#[derive(Clone, Default)]
struct Fetched {
    /// Certificates fetched from caIssuers URLs: untrusted intermediates, never anchors.
    issuers: Vec<CertRef>,
    crls: CrlSet,
    ocsp: OcspStore,
    /// The policy's evidence merged with the fetched (None while nothing was fetched).
    all_crls: Option<CrlSet>,
    all_ocsp: Option<OcspStore>,
    failures: FetchFailures,
    generation: u64,
    /// Fetched items forgotten so far (`revocation::prune`).
    pruned: u64,
}

impl Engine {
    /// After fetched evidence changed: forget what can no longer decide anything
    /// (`revocation::prune`), merge with the policy's evidence once for every validation
    /// to share, and invalidate the cached verdicts.
    fn refresh(&self, f: &mut Fetched) {
        let clock = self.latest_at.load(std::sync::atomic::Ordering::Relaxed);
        let n = crate::revocation::prune::prune_fetched(
            &mut f.crls,
            &mut f.ocsp,
            &self.crls,
            &self.ocsp,
            clock,
            self.policy.ocsp_skew,
        );
        f.pruned = f.pruned.saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        f.all_crls = (!f.crls.is_empty()).then(|| self.crls.merged(&f.crls));
        f.all_ocsp = (!f.ocsp.is_empty()).then(|| self.ocsp.merged(&f.ocsp));
        f.generation += 1;
    }

    /// (fetched CRLs held, fetched OCSP responses held, fetched items forgotten so far): a
    /// long-running verifier's evidence stays bounded (tests, stats).
    pub fn fetched_evidence(&self) -> (usize, usize, u64) {
        self.fetched
            .read()
            .map(|f| (f.crls.len(), f.ocsp.len(), f.pruned))
            .unwrap_or_default()
    }
}

/// The certificates in what a caIssuers URL served: a certs-only PKCS#7 (DER, BER or
/// PEM), else one certificate (DER or PEM).
fn fetched_certificates(body: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    match crate::cms::input::bundle_certificates(body) {
        Ok(Some(certs)) => Ok(certs),
        Err(e) => Err(format!("not a usable certs-only PKCS#7: {}", e.0)),
        Ok(None) => {
            let trimmed = body.trim_ascii_start();
            // PEM, possibly after explanatory text (RFC 7468 §2), else DER.
            if body.first() != Some(&0x30) && crate::cms::input::pem_begin(trimmed).is_some() {
                crate::cms::input::pem_decode(trimmed, &["CERTIFICATE"])
                    .map(|d| vec![d])
                    .map_err(|e| format!("not a PEM certificate: {}", e.0))
            } else if body.first() == Some(&0x30) {
                Ok(vec![body.to_vec()])
            } else {
                Err(format!(
                    "the {}-byte body is neither a DER certificate nor a PKCS#7 bundle",
                    body.len()
                ))
            }
        }
    }
}

/// A digest of a set of fingerprints (order-independent), identifying which untrusted
/// certificates and CRLs a cached result was computed with.
fn set_digest<'a>(items: impl Iterator<Item = &'a [u8; 32]>) -> [u8; 32] {
    let mut fps: Vec<&[u8; 32]> = items.collect();
    if fps.is_empty() {
        // The empty set (a document carrying no CRL), the digest of nothing, every time.
        static EMPTY: std::sync::LazyLock<[u8; 32]> = std::sync::LazyLock::new(|| {
            let mut out = [0u8; 32];
            out.copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &[]).as_ref());
            out
        });
        return *EMPTY;
    }
    fps.sort();
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for f in fps {
        ctx.update(f);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// Verification never unwinds into the caller: a bug that panics becomes an
/// `internal_error` result for that document rather than killing a bulk job (and never
/// `malformed`, which would blame the document for govsig's bug).
fn guarded(f: impl FnOnce() -> VerifyOutcome) -> VerifyOutcome {
    // The caches hold no invariant a half-finished document could break (entries are
    // inserted whole), so asserting unwind safety is sound.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(o) => o,
        Err(_) => VerifyOutcome::failure(
            Code::InternalError,
            "internal error while verifying this document (a bug in govsig, please report it)",
        ),
    }
}

/// Which anchors a path is built to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Anchors {
    Signers,
    Tsa,
}

pub(crate) struct DocContext<'e> {
    engine: &'e Engine,
    at: UnixTime,
}

/// The context a time-stamp token's own CMS is verified in: its signer (the TSA) is
/// validated against `tsa_trust` at `chain_at` (the validation time, or genTime under
/// `tsa_validation="gen_time"`), and the token's own signer reads no time-stamps.
pub(crate) struct TsaContext<'e> {
    engine: &'e Engine,
    chain_at: UnixTime,
}

impl Engine {
    /// The trust context a document signer is verified in: the trust store's anchors, the
    /// policy's signature time (a signed PDF's signatures, `crate::pdf`).
    pub(crate) fn doc_context(&self, at: UnixTime) -> DocContext<'_> {
        DocContext { engine: self, at }
    }

    /// The trust context time-stamp tokens are verified in (`crate::tsp`).
    pub(crate) fn trust_context(&self, at: UnixTime) -> TsaContext<'_> {
        TsaContext {
            engine: self,
            chain_at: at,
        }
    }

    /// Judges a signature time-stamp token over `signature_value` at `at`, the TSA's chain
    /// at `at` or (tsa_validation="gen_time") at the token's genTime. Under gen_time the
    /// TSA's revocation still counts as of `at`: a TSA certificate revoked after genTime
    /// but by `at` makes the token untrusted (a compromised TSA key can mint any genTime).
    fn signature_timestamp(&self, token: &[u8], signature_value: &[u8], at: UnixTime) -> TimestampOutcome {
        self.embedded_timestamp(token, Stamped::Data(signature_value), at, "signature")
    }

    /// Judges a content time-stamp token (id-aa-ets-contentTimestamp) over the content
    /// `parts`, with the same TSA checks as a signature time-stamp.
    fn content_timestamp(&self, token: &[u8], content: &[&[u8]], at: UnixTime) -> TimestampOutcome {
        self.embedded_timestamp(token, Stamped::Parts(content), at, "content")
    }

    fn embedded_timestamp(
        &self,
        token: &[u8],
        stamped: Stamped<'_>,
        at: UnixTime,
        kind: &'static str,
    ) -> TimestampOutcome {
        let gen_time_mode = self.policy.tsa_validation == crate::policy::TsaValidation::GenTime;
        let chain_at = if gen_time_mode {
            crate::tsp::peek_gen_time(token).map_or(at, |g| g.min(at))
        } else {
            at
        };
        let ctx = TsaContext { engine: self, chain_at };
        let mut o = crate::tsp::verify_token(&ctx, token, stamped, at);
        if gen_time_mode && o.ok() {
            if let Some(e) = o.revocation.iter().find(|e| e.revoked_at.is_some_and(|r| r <= at)) {
                let when = e.revoked_at.map(crate::time::to_rfc3339).unwrap_or_default();
                o.code = Code::TimestampUntrusted;
                o.cause = Some(Code::CertRevoked);
                o.reason = format!(
                    "{} on the TSA's path was revoked on {when}, after genTime but by the validation time \
                     (tsa_validation=\"gen_time\" judges the TSA's revocation as of the validation time)",
                    e.certificate.describe()
                );
                o.chain.clear();
            }
        }
        o.chain_validated_at = Some(chain_at);
        o.kind = Some(kind);
        o
    }
}

impl TrustContext for TsaContext<'_> {
    fn certificate(&self, der: &[u8]) -> Result<CertRef, String> {
        self.engine.interner.get_or_parse(der).map_err(|e| e.0)
    }

    fn extra_signer_candidates(&self) -> &[CertRef] {
        &self.engine.tsa_candidates
    }

    fn crl(&self, der: &[u8]) -> Result<Arc<CrlIndex>, String> {
        self.engine.crl(der)
    }

    fn validate_signer_with_ocsp(
        &self,
        signer: &CertRef,
        document_certs: &[CertRef],
        document_crls: &[Arc<CrlIndex>],
        document_ocsp: &[Arc<OcspResponse>],
        at: UnixTime,
    ) -> Option<Result<Arc<ValidPath>, PathError>> {
        self.engine.trust.as_ref().or(self.engine.tsa_trust.as_ref())?;
        Some(
            self.engine
                .validate_path_in(Anchors::Tsa, signer, document_certs, document_crls, document_ocsp, at),
        )
    }

    fn at(&self) -> UnixTime {
        self.chain_at
    }

    fn time_policy(&self) -> TimePolicy {
        TimePolicy::AT
    }

    fn verify_signature_timestamp(&self, token: &[u8], signature_value: &[u8]) -> TimestampOutcome {
        self.engine.signature_timestamp(token, signature_value, self.chain_at)
    }

    fn verify_content_timestamp(&self, token: &[u8], content: &[&[u8]]) -> TimestampOutcome {
        self.engine.content_timestamp(token, content, self.chain_at)
    }

    fn legacy_allowed(&self) -> bool {
        self.engine.policy.legacy
    }

    fn min_rsa_bits(&self) -> usize {
        self.engine.policy.min_rsa_bits
    }
}

impl TrustContext for DocContext<'_> {
    fn certificate(&self, der: &[u8]) -> Result<CertRef, String> {
        self.engine.interner.get_or_parse(der).map_err(|e| e.0)
    }

    fn extra_signer_candidates(&self) -> &[CertRef] {
        &self.engine.signer_candidates
    }

    fn crl(&self, der: &[u8]) -> Result<Arc<CrlIndex>, String> {
        self.engine.crl(der)
    }

    fn validate_signer_with_ocsp(
        &self,
        signer: &CertRef,
        document_certs: &[CertRef],
        document_crls: &[Arc<CrlIndex>],
        document_ocsp: &[Arc<OcspResponse>],
        at: UnixTime,
    ) -> Option<Result<Arc<ValidPath>, PathError>> {
        self.engine.trust.as_ref()?;
        Some(self.engine.validate_path_in(
            Anchors::Signers,
            signer,
            document_certs,
            document_crls,
            document_ocsp,
            at,
        ))
    }

    fn at(&self) -> UnixTime {
        self.at
    }

    fn time_policy(&self) -> TimePolicy {
        let p = &self.engine.policy;
        TimePolicy {
            mode: p.signature_time,
            require_timestamp: p.require_timestamp,
            signing_time_tolerance: p.signing_time_tolerance,
        }
    }

    fn verify_signature_timestamp(&self, token: &[u8], signature_value: &[u8]) -> TimestampOutcome {
        self.engine.signature_timestamp(token, signature_value, self.at)
    }

    fn verify_content_timestamp(&self, token: &[u8], content: &[&[u8]]) -> TimestampOutcome {
        self.engine.content_timestamp(token, content, self.at)
    }

    fn legacy_allowed(&self) -> bool {
        self.engine.policy.legacy
    }

    fn min_rsa_bits(&self) -> usize {
        self.engine.policy.min_rsa_bits
    }
}

#[cfg(test)]
mod tests;
