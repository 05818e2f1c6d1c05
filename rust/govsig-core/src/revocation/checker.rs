//! Revocation as path building sees it: a [`RevocationCheck`] injected into
//! [`PathContext`], so that x509 never calls into revocation. The recursion that revocation
//! needs (a CRL signer's or a delegated OCSP responder's own path, itself checked for
//! revocation one level deeper) is composed here, one level above both: the checker builds
//! the sub-path with a [`PathContext`] carrying a checker of `depth + 1` (the shape of
//! rustls-webpki's CRL provider and of pyca's revocation checker, which never call back into
//! their chain builder through the same module pair).

use std::sync::LazyLock;

use crate::revocation::check::check_path;
use crate::revocation::{CrlSet, FetchFailures, OcspStore, RevocationEvidence, RevocationMode, RevocationSource};
use crate::time::UnixTime;
use crate::x509::cert::CertRef;
use crate::x509::path::{RevocationCheck, RevocationRecord};

/// Path validation's types as govsig composes it: with [`RevocationChecker`] injected, each
/// path records [`RevocationEvidence`] per certificate.
pub type PathContext<'a> = crate::x509::path::PathContext<'a, RevocationEvidence>;
pub type PathError = crate::x509::path::PathError<RevocationEvidence>;
pub type ValidPath = crate::x509::path::ValidPath<RevocationEvidence>;
pub type EdgeCache = crate::x509::path::EdgeCache<RevocationEvidence>;
pub type DecidedBy = crate::x509::path::DecidedBy<RevocationEvidence>;

impl RevocationRecord for RevocationEvidence {
    /// Every CRL's nextUpdate, and what the check said of the rest (an OCSP answer's
    /// nextUpdate plus skew, a revocation dated after the validation time): past that
    /// instant the evidence would be refused or say otherwise.
    fn valid_until(&self) -> Option<UnixTime> {
        self.crl
            .iter()
            .chain(self.delta.iter())
            .filter_map(|c| c.next_update)
            .chain(self.valid_until)
            .min()
    }

    /// A CRL issued after the validation time speaks for it (`check`, `silent_after_expiry`),
    /// so its thisUpdate does not bound the window from below; a released hold does (before
    /// the release, the hold was in force).
    fn valid_from(&self) -> Option<UnixTime> {
        self.valid_from
    }
}

/// The evidence and rules for one verification: CRLs and OCSP responses at hand, the
/// fetching order, what failed to fetch, the mode, and how deep in signer/responder paths
/// this check runs.
#[derive(Clone, Copy)]
pub struct RevocationChecker<'a> {
    /// CRLs available (the policy's, the fetched and the document's).
    pub crls: &'a CrlSet,
    /// OCSP responses available (the policy's and the fetched).
    pub ocsp: &'a OcspStore,
    /// The order in which missing evidence is asked for (never what is believed).
    pub sources: &'a [RevocationSource],
    /// Seconds of clock skew forgiven on OCSP thisUpdate/nextUpdate.
    pub ocsp_skew: i64,
    /// Evidence the caller failed to fetch (URL -> why).
    pub fetch_failures: &'a FetchFailures,
    pub mode: RevocationMode,
    /// 0 for the end entity's path; 1+ for the path of a CRL signer or OCSP responder.
    pub depth: usize,
}

static NO_CRLS: LazyLock<CrlSet> = LazyLock::new(CrlSet::default);
static NO_OCSP: LazyLock<OcspStore> = LazyLock::new(OcspStore::default);
static NO_FAILURES: LazyLock<FetchFailures> = LazyLock::new(FetchFailures::default);
static OFF: LazyLock<RevocationChecker<'static>> = LazyLock::new(|| RevocationChecker {
    crls: &NO_CRLS,
    ocsp: &NO_OCSP,
    sources: &[],
    ocsp_skew: 0,
    fetch_failures: &NO_FAILURES,
    mode: RevocationMode::Off,
    depth: 0,
});

impl RevocationChecker<'_> {
    /// No revocation checking (paths validated without evidence).
    pub fn off() -> &'static RevocationChecker<'static> {
        &OFF
    }

    /// The same evidence one level deeper (a signer's or responder's own path), in `mode`.
    pub fn nested(&self, mode: RevocationMode) -> Self {
        RevocationChecker {
            mode,
            depth: self.depth.saturating_add(1),
            ..*self
        }
    }
}

impl RevocationCheck for RevocationChecker<'_> {
    type Record = RevocationEvidence;

    fn check(
        &self,
        ctx: &PathContext<'_>,
        chain: &[CertRef],
        anchor: &CertRef,
    ) -> Result<Vec<RevocationEvidence>, PathError> {
        check_path(ctx, self, chain, anchor)
    }
}
