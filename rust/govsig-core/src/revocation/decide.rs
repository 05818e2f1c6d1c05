//! The status of certificate C at time T given the evidence E: the rules, as a function of
//! the *set* E. Callers (see `check`) first judge every piece of evidence about C — each
//! CRL, complete or delta, and each OCSP response — for signature, issuer or responder
//! authority, scope, freshness at T and critical extensions; what survives becomes an
//! [`Observation`] here. Refused evidence never reaches this module: it decides nothing
//! (the caller reports why it was refused).
//!
//! The rules, none of which looks at the order of E:
//!
//! 1. **A revocation cannot be outvoted.** Valid evidence that C was revoked at or before T
//!    (a CRL entry, RFC 5280 §6.3.3 (i); an OCSP `revoked` answer, RFC 6960 §2.2) decides
//!    `revoked`, whatever any other evidence says. An older CRL saying good never overrides
//!    it, nor does a "good" OCSP answer. When several pieces say revoked, the one naming
//!    the earliest revocation date is reported (ties by fingerprint), so the reason is the
//!    same for every order.
//! 2. **Evidence about a later time.** A revocation dated after T, or evidence issued after
//!    T that does not list C, proves C was not revoked at T: a revocation is permanent
//!    (RFC 5280 §5.3.1 allows only certificateHold to be undone), so what was not revoked
//!    later was not revoked earlier. Such evidence counts as "good at T".
//! 3. **certificateHold.** A certificateHold entry dated at or before T counts as revoked at
//!    T (`cert_on_hold`) unless newer evidence of the same authority shows C not on hold:
//!    a newer complete CRL of the same scope (issuer and issuingDistributionPoint) that no
//!    longer lists C, a delta CRL with removeFromCRL for C (RFC 5280 §5.3.1, §6.3.3 (g)), or
//!    a newer OCSP "good". "Newer" among CRLs of one scope is by cRLNumber, then thisUpdate
//!    (RFC 5280 §5.2.3: numbers increase monotonically across a scope's complete and delta
//!    CRLs); across kinds it is by thisUpdate. Evidence that does not cover the
//!    certificateHold reason (a CRL partitioned by onlySomeReasons) cannot lift a hold.
//! 4. **Good** needs no revocation and no hold in force (above) and, from the caller,
//!    coverage: complete CRLs fresh at T whose reasons together are all-reasons (RFC 5280
//!    §6.3.3 (j)), or a valid OCSP "good" (RFC 6960 §2.2). Among CRLs of one scope the
//!    newest is the authority on "good": by rules 1 and 3 an older CRL's "good" can only
//!    agree with it.
//! 5. OCSP and CRL evidence combine by these same rules; the policy's
//!    `revocation_sources` orders only which missing evidence to fetch first, never which
//!    evidence to believe.

use crate::revocation::crl::{IssuingDistributionPoint, Reason};
use crate::revocation::CrlNumber;
use crate::time::UnixTime;

/// What one valid piece of evidence says about C.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Said {
    /// C is listed as revoked from `date`, for `reason` (None when no reasonCode).
    Revoked { date: UnixTime, reason: Option<Reason> },
    /// C is not listed (a CRL in scope), removed by removeFromCRL, or answered good.
    Good,
}

/// The scope of a CRL for rule 3: the CRL issuer (its name key) and its
/// issuingDistributionPoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeKey {
    pub issuer: Vec<u8>,
    pub idp: Option<IssuingDistributionPoint>,
}

/// One piece of valid evidence about C, reduced to what the rules need. `S` is the caller's
/// handle on the evidence (to name it in results).
#[derive(Clone, Debug)]
pub struct Observation<S> {
    pub said: Said,
    /// thisUpdate of the CRL (of the delta, for a delta's entry) or of the OCSP answer.
    pub this_update: UnixTime,
    /// cRLNumber, for CRLs.
    pub number: Option<CrlNumber>,
    /// For CRLs: the scope, so that only CRLs of one scope are ordered by number.
    pub scope: Option<ScopeKey>,
    /// Whether "good" here speaks for the certificateHold reason (rule 3).
    pub covers_hold: bool,
    /// SHA-256 of the evidence: the tie-break that keeps reports order-independent.
    pub fingerprint: [u8; 32],
    pub source: S,
}

/// The decision of rules 1-3. `NotRevoked` still needs coverage (rule 4) to be "good".
#[derive(Debug)]
pub enum Verdict<'o, S> {
    Revoked(&'o Observation<S>),
    OnHold(&'o Observation<S>),
    NotRevoked,
}

fn is_hold(said: &Said) -> bool {
    matches!(
        said,
        Said::Revoked {
            reason: Some(Reason::CertificateHold),
            ..
        }
    )
}

/// Revoked at or before `at` (rule 2: a later date is no revocation at `at`).
fn revoked_by(said: &Said, at: UnixTime) -> bool {
    matches!(said, Said::Revoked { date, .. } if *date <= at)
}

/// Rule 3's "newer": by (cRLNumber, thisUpdate) within one CRL scope, else by thisUpdate.
fn newer<S>(a: &Observation<S>, b: &Observation<S>) -> bool {
    match (&a.scope, &b.scope, &a.number, &b.number) {
        (Some(sa), Some(sb), Some(na), Some(nb)) if sa == sb => (na, a.this_update) > (nb, b.this_update),
        _ => a.this_update > b.this_update,
    }
}

/// Applies rules 1-3 to `observations` (any order; the result does not depend on it).
pub fn decide<S>(at: UnixTime, observations: &[Observation<S>]) -> Verdict<'_, S> {
    // Rule 1: the earliest revocation, ties by fingerprint (a total order on the set).
    let revoked = observations
        .iter()
        .filter(|o| revoked_by(&o.said, at) && !is_hold(&o.said))
        .min_by_key(|o| (revocation_date(o), o.fingerprint));
    if let Some(o) = revoked {
        return Verdict::Revoked(o);
    }
    // Rule 3: a hold in force unless newer evidence covering holds, issued at or before T,
    // says good.
    let lifted = |h: &Observation<S>| lifts(h, at, observations).is_some();
    let held = observations
        .iter()
        .filter(|o| revoked_by(&o.said, at) && is_hold(&o.said) && !lifted(o))
        .min_by_key(|o| (revocation_date(o), o.fingerprint));
    match held {
        Some(o) => Verdict::OnHold(o),
        None => Verdict::NotRevoked,
    }
}

/// When a hold observed in `h` (dated at or before `at`) was lifted: the earliest thisUpdate
/// of newer evidence covering holds that says good and was issued at or before `at`. Only
/// such evidence speaks for T: a hold is reversible (RFC 5280 §5.3.1), so a release seen
/// only after T leaves open that C was on hold at T (the last status known at or before T
/// is the hold; ETSI EN 319 102-1 judges a suspension at the signature time as such).
pub fn lifts<S>(h: &Observation<S>, at: UnixTime, observations: &[Observation<S>]) -> Option<UnixTime> {
    observations
        .iter()
        .filter(|g| {
            g.covers_hold && g.this_update <= at && (g.said == Said::Good || !revoked_by(&g.said, at)) && newer(g, h)
        })
        .map(|g| g.this_update)
        .min()
}

/// The instant from which a "not revoked" verdict at `at` holds: the latest of the releases
/// of holds dated at or before `at` (before a release, the hold was in force). `None` when
/// no hold was released.
pub fn not_revoked_since<S>(at: UnixTime, observations: &[Observation<S>]) -> Option<UnixTime> {
    observations
        .iter()
        .filter(|h| revoked_by(&h.said, at) && is_hold(&h.said))
        .filter_map(|h| lifts(h, at, observations))
        .max()
}

/// The earliest revocation (or hold) dated after `at`: what a verdict at `at` reports as
/// "revoked later" (date and reason). Ties by fingerprint, so every order gives one answer.
pub fn revoked_after<S>(at: UnixTime, observations: &[Observation<S>]) -> Option<(UnixTime, Option<Reason>)> {
    observations
        .iter()
        .filter_map(|o| match o.said {
            Said::Revoked { date, reason } if date > at => Some(((date, o.fingerprint), reason)),
            _ => None,
        })
        .min_by_key(|(k, _)| *k)
        .map(|((date, _), reason)| (date, reason))
}

fn revocation_date<S>(o: &Observation<S>) -> UnixTime {
    match o.said {
        Said::Revoked { date, .. } => date,
        Said::Good => UnixTime::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: UnixTime = 1_700_000_000;
    const DAY: i64 = 86_400;

    fn crl_obs(id: u8, number: u8, this_update: UnixTime, said: Said) -> Observation<u8> {
        Observation {
            said,
            this_update,
            number: CrlNumber::from_integer_bytes(&[number]),
            scope: Some(ScopeKey {
                issuer: b"CA".to_vec(),
                idp: None,
            }),
            covers_hold: true,
            fingerprint: [id; 32],
            source: id,
        }
    }

    fn ocsp_obs(id: u8, this_update: UnixTime, said: Said) -> Observation<u8> {
        Observation {
            said,
            this_update,
            number: None,
            scope: None,
            covers_hold: true,
            fingerprint: [id; 32],
            source: id,
        }
    }

    fn revoked(date: UnixTime, reason: Option<Reason>) -> Said {
        Said::Revoked { date, reason }
    }

    /// The verdict as (kind, deciding source), for comparing orders.
    fn summary(v: &Verdict<'_, u8>) -> (&'static str, Option<u8>) {
        match v {
            Verdict::Revoked(o) => ("revoked", Some(o.source)),
            Verdict::OnHold(o) => ("on_hold", Some(o.source)),
            Verdict::NotRevoked => ("not_revoked", None),
        }
    }

    /// Every permutation of `v` (Heap's algorithm; the sets here have at most 6 items).
    fn permutations<X: Clone>(v: &[X]) -> Vec<Vec<X>> {
        fn go<X: Clone>(k: usize, a: &mut Vec<X>, out: &mut Vec<Vec<X>>) {
            if k <= 1 {
                out.push(a.clone());
                return;
            }
            for i in 0..k {
                go(k - 1, a, out);
                if k.is_multiple_of(2) {
                    a.swap(i, k - 1);
                } else {
                    a.swap(0, k - 1);
                }
            }
        }
        let mut a = v.to_vec();
        let mut out = Vec::new();
        go(a.len(), &mut a, &mut out);
        out
    }

    /// Every order of `set` gives `want`.
    fn assert_every_order(set: &[Observation<u8>], want: (&'static str, Option<u8>)) {
        let perms = permutations(set);
        assert!(perms.len() >= (1..=set.len()).product::<usize>());
        for p in perms {
            let got = summary(&decide(T, &p));
            assert_eq!(got, want, "order {:?}", p.iter().map(|o| o.source).collect::<Vec<_>>());
        }
    }

    #[test]
    fn newer_crl_listing_c_wins_over_older_good_in_every_order() {
        let older = crl_obs(1, 1, T - 2 * DAY, Said::Good);
        let newer = crl_obs(2, 2, T - DAY, revoked(T - DAY - 10, Some(Reason::KeyCompromise)));
        assert_every_order(&[older, newer], ("revoked", Some(2)));
    }

    #[test]
    fn newer_good_never_outvotes_an_older_revocation() {
        let older = crl_obs(1, 1, T - 2 * DAY, revoked(T - 3 * DAY, None));
        let newer = crl_obs(2, 2, T - DAY, Said::Good);
        let ocsp_good = ocsp_obs(3, T - 60, Said::Good);
        assert_every_order(&[older, newer, ocsp_good], ("revoked", Some(1)));
    }

    #[test]
    fn ocsp_revoked_beats_crl_good_and_ocsp_good() {
        let crl = crl_obs(1, 5, T - DAY, Said::Good);
        let good = ocsp_obs(2, T - 3600, Said::Good);
        let bad = ocsp_obs(3, T - 7200, revoked(T - 9000, Some(Reason::Superseded)));
        assert_every_order(&[crl, good, bad], ("revoked", Some(3)));
    }

    #[test]
    fn several_revocations_report_the_earliest() {
        let a = crl_obs(1, 1, T - DAY, revoked(T - 5 * DAY, None));
        let b = ocsp_obs(2, T - 10, revoked(T - 9 * DAY, None));
        let c = crl_obs(3, 2, T - 10, revoked(T - 5 * DAY, None));
        let d = ocsp_obs(4, T - 20, Said::Good);
        assert_every_order(&[a, b, c, d], ("revoked", Some(2)));
    }

    #[test]
    fn a_revocation_after_t_is_not_a_revocation_at_t() {
        let later = crl_obs(1, 9, T + 30 * DAY, revoked(T + 10 * DAY, Some(Reason::KeyCompromise)));
        let good = crl_obs(2, 3, T - DAY, Said::Good);
        assert_every_order(&[later, good], ("not_revoked", None));
    }

    #[test]
    fn hold_in_force_is_on_hold_in_every_order() {
        let held = crl_obs(1, 4, T - DAY, revoked(T - 2 * DAY, Some(Reason::CertificateHold)));
        let older_good = crl_obs(2, 3, T - 3 * DAY, Said::Good);
        let older_ocsp = ocsp_obs(3, T - 3 * DAY, Said::Good);
        assert_every_order(&[held, older_good, older_ocsp], ("on_hold", Some(1)));
    }

    #[test]
    fn newer_crl_of_the_scope_lifts_a_hold_in_every_order() {
        let held = crl_obs(1, 4, T - 2 * DAY, revoked(T - 3 * DAY, Some(Reason::CertificateHold)));
        // Newer by number even though issued in the same second.
        let released = crl_obs(2, 5, T - 2 * DAY, Said::Good);
        assert_every_order(&[held, released], ("not_revoked", None));
    }

    #[test]
    fn a_crl_of_another_scope_or_without_hold_reason_lifts_nothing() {
        let held = crl_obs(1, 4, T - 2 * DAY, revoked(T - 3 * DAY, Some(Reason::CertificateHold)));
        let mut partitioned = crl_obs(2, 9, T - DAY, Said::Good);
        partitioned.covers_hold = false;
        assert_every_order(&[held.clone(), partitioned], ("on_hold", Some(1)));
        // Another scope: compared by thisUpdate, and older, so it cannot lift.
        let mut other = crl_obs(3, 99, T - 4 * DAY, Said::Good);
        other.scope = Some(ScopeKey {
            issuer: b"other".to_vec(),
            idp: None,
        });
        assert_every_order(&[held, other], ("on_hold", Some(1)));
    }

    #[test]
    fn newer_ocsp_good_lifts_a_hold_older_does_not() {
        let held = crl_obs(1, 4, T - 2 * DAY, revoked(T - 3 * DAY, Some(Reason::CertificateHold)));
        let newer = ocsp_obs(2, T - DAY, Said::Good);
        let older = ocsp_obs(3, T - 5 * DAY, Said::Good);
        assert_every_order(&[held.clone(), newer, older.clone()], ("not_revoked", None));
        assert_every_order(&[held, older], ("on_hold", Some(1)));
    }

    #[test]
    fn a_release_seen_only_after_t_leaves_the_hold_in_force_at_t() {
        let held = crl_obs(1, 4, T - 2 * DAY, revoked(T - 3 * DAY, Some(Reason::CertificateHold)));
        let released_later = crl_obs(2, 5, T + DAY, Said::Good);
        assert_every_order(&[held.clone(), released_later.clone()], ("on_hold", Some(1)));
        // At a later T the same release speaks, and the verdict holds from the release on.
        let later = T + 2 * DAY;
        let set = [held, released_later];
        assert!(matches!(decide(later, &set), Verdict::NotRevoked));
        assert_eq!(not_revoked_since(later, &set), Some(T + DAY));
    }

    #[test]
    fn the_earliest_later_revocation_is_reported() {
        let a = crl_obs(1, 4, T + 5 * DAY, revoked(T + 3 * DAY, Some(Reason::KeyCompromise)));
        let b = ocsp_obs(2, T + 9 * DAY, revoked(T + 2 * DAY, Some(Reason::Superseded)));
        for p in permutations(&[a, b]) {
            assert_eq!(revoked_after(T, &p), Some((T + 2 * DAY, Some(Reason::Superseded))));
        }
    }

    #[test]
    fn hold_and_revocation_together_is_revoked() {
        let held = crl_obs(1, 4, T - 2 * DAY, revoked(T - 3 * DAY, Some(Reason::CertificateHold)));
        let rev = crl_obs(2, 5, T - DAY, revoked(T - DAY - 5, Some(Reason::KeyCompromise)));
        let good = ocsp_obs(3, T - 10, Said::Good);
        assert_every_order(&[held, rev, good], ("revoked", Some(2)));
    }

    #[test]
    fn larger_mixed_sets_are_order_independent() {
        // Six pieces, 720 orders, one verdict.
        let set = [
            crl_obs(1, 1, T - 9 * DAY, Said::Good),
            crl_obs(
                2,
                2,
                T - 8 * DAY,
                revoked(T - 8 * DAY - 1, Some(Reason::CertificateHold)),
            ),
            crl_obs(3, 3, T - 7 * DAY, Said::Good),
            ocsp_obs(4, T - 6 * DAY, Said::Good),
            crl_obs(
                5,
                4,
                T - 5 * DAY,
                revoked(T - 5 * DAY - 1, Some(Reason::CertificateHold)),
            ),
            ocsp_obs(6, T - 7 * DAY, Said::Good),
        ];
        assert_every_order(&set, ("on_hold", Some(5)));
    }
}
