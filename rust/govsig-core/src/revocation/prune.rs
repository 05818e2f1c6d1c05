//! Which fetched evidence a long-running engine may forget. A `Verifier` with a fetcher
//! refetches each CRL and OCSP answer as it goes stale (issue 10), so without forgetting its
//! evidence grows by one item per refresh for as long as the process lives.
//!
//! The engine may be asked about any time T: the validation clock, and past signature times
//! (a time-stamp, a claimed signingTime). So evidence is forgotten only when it can decide
//! nothing at any T that the evidence kept cannot decide the same way. Fetched item A is
//! forgotten when all of these hold:
//!
//! 1. **Stale at the validation clock**: A's nextUpdate (an OCSP answer's, plus the forgiven
//!    skew; its thisUpdate when it has none) is before the latest validation time the engine
//!    has been asked about. Current evidence is never forgotten.
//! 2. **Superseded**: a newer fetched item B of the same authority and scope is held (CRLs:
//!    the same issuer, authority key identifier, issuingDistributionPoint and kind, complete
//!    or delta, newer by cRLNumber then thisUpdate; OCSP: B answers for every CertID that A
//!    answers for, with a later thisUpdate), and B says every revocation A says, with the
//!    same date and reason. B, issued after every T that A speaks for, speaks for those T too
//!    (`decide`, rule 2), so rule 1 (a revocation cannot be outvoted) gives the same verdict
//!    without A: no revocation at or before T is ever lost.
//! 3. **Not the first release of a hold**: a certificateHold seen in any evidence held is
//!    lifted at T only by newer evidence issued at or before T (`decide::lifts`). The oldest
//!    item newer than the hold that no longer lists it is that release for every T between
//!    it and the next one, so it is kept (the later releases are not needed: it speaks for
//!    them too).
//!
//! What forgetting A can still change, documented rather than hidden: a "good" at a T inside
//! A's window for a certificate that expired between A's thisUpdate and B's. B, issued after
//! that expiry, is refused for "good" (a CA may drop expired certificates from its revocation
//! data: `check::silent_after_expiry`), so the status becomes undetermined — the verdict a
//! Verifier that never fetched A gives. Evidence given up front or carried by documents is
//! never forgotten, so an archive job that must prove such a status keeps the CRL it needs by
//! giving it in `Policy(crls=...)`.
//!
//! B is not verified when A is forgotten (that needs a path); a forged B could only make A's
//! "good" at past times undetermined, never hide a revocation: B must list every revocation A
//! lists, and a forged B is itself refused when it is judged.

use std::collections::HashSet;
use std::sync::Arc;

use crate::revocation::crl::{CrlIndex, Reason, SerialKey};
use crate::revocation::ocsp::{CertStatus, OcspResponse};
use crate::revocation::{CrlSet, OcspStore};
use crate::time::UnixTime;

/// A certificateHold seen in evidence: the serial on hold and the thisUpdate of the evidence.
struct Hold {
    serial: SerialKey,
    seen: UnixTime,
}

/// Forgets from `crls` and `ocsp` (the fetched evidence) what the module rules allow, given
/// the latest validation time `clock`, the OCSP `skew`, and `given` (evidence held besides,
/// whose holds count for rule 3). Returns how many items were forgotten.
pub fn prune_fetched(
    crls: &mut CrlSet,
    ocsp: &mut OcspStore,
    given_crls: &CrlSet,
    given_ocsp: &OcspStore,
    clock: UnixTime,
    skew: i64,
) -> usize {
    let holds = holds_in(
        crls.iter().chain(given_crls.iter()),
        ocsp.responses().iter().chain(given_ocsp.responses()),
    );
    let protected = first_releases(&holds, crls, ocsp);
    let before = crls.len() + ocsp.len();
    let all_crls: Vec<Arc<CrlIndex>> = crls.iter().cloned().collect();
    let forget_crl = |a: &Arc<CrlIndex>| {
        a.defect.is_none()
            && a.next_update.is_some_and(|n| n < clock)
            && !protected.contains(&a.fingerprint())
            && all_crls.iter().any(|b| crl_supersedes(b, a))
    };
    crls.retain(|a| !forget_crl(a));
    let all_ocsp: Vec<Arc<OcspResponse>> = ocsp.responses().to_vec();
    let forget_ocsp = |a: &Arc<OcspResponse>| {
        ocsp_stale(a, clock, skew)
            && !protected.contains(&a.fingerprint)
            && all_ocsp.iter().any(|b| ocsp_supersedes(b, a))
    };
    ocsp.retain(|a| !forget_ocsp(a));
    before.saturating_sub(crls.len() + ocsp.len())
}

fn is_hold(reason: Option<Reason>) -> bool {
    reason == Some(Reason::CertificateHold)
}

fn holds_in<'a>(
    crls: impl Iterator<Item = &'a Arc<CrlIndex>>,
    ocsp: impl Iterator<Item = &'a Arc<OcspResponse>>,
) -> Vec<Hold> {
    let mut out = Vec::new();
    for c in crls {
        for e in c.entries().iter().filter(|e| is_hold(e.reason)) {
            out.push(Hold {
                serial: e.serial.clone(),
                seen: c.this_update,
            });
        }
    }
    for r in ocsp {
        for s in &r.responses {
            if let CertStatus::Revoked { reason, .. } = s.status {
                if is_hold(reason) {
                    out.push(Hold {
                        serial: SerialKey::from_integer_bytes(&s.serial),
                        seen: s.this_update,
                    });
                }
            }
        }
    }
    out
}

/// Rule 3: for each hold, the oldest fetched item newer than it that does not list the
/// serial (by serial alone, whatever the issuer: keeping more than needed is safe).
fn first_releases(holds: &[Hold], crls: &CrlSet, ocsp: &OcspStore) -> HashSet<[u8; 32]> {
    let mut out = HashSet::new();
    for h in holds {
        let crl_release = crls
            .iter()
            .filter(|c| c.defect.is_none() && c.this_update > h.seen)
            .filter(|c| !c.entries().iter().any(|e| e.serial == h.serial))
            .map(|c| (c.this_update, c.fingerprint()));
        let ocsp_release = ocsp.responses().iter().filter_map(|r| {
            r.responses
                .iter()
                .filter(|s| SerialKey::from_integer_bytes(&s.serial) == h.serial && s.this_update > h.seen)
                .filter(|s| !matches!(s.status, CertStatus::Revoked { .. }))
                .map(|s| s.this_update)
                .min()
                .map(|t| (t, r.fingerprint))
        });
        if let Some((_, fp)) = crl_release.chain(ocsp_release).min() {
            out.insert(fp);
        }
    }
    out
}

/// Rule 2 for CRLs: `b` is newer than `a`, of the same authority and scope, and lists every
/// entry of `a` with the same date and reason.
fn crl_supersedes(b: &CrlIndex, a: &CrlIndex) -> bool {
    if b.defect.is_some()
        || b.issuer.key() != a.issuer.key()
        || b.authority_key_id != a.authority_key_id
        || b.issuing_distribution_point != a.issuing_distribution_point
        || b.is_delta() != a.is_delta()
    {
        return false;
    }
    let newer = match (&b.crl_number, &a.crl_number) {
        (Some(nb), Some(na)) => (nb, b.this_update) > (na, a.this_update),
        _ => b.this_update > a.this_update,
    };
    newer
        && a.entries().iter().all(|e| {
            let issuer = e.certificate_issuer.as_deref().unwrap_or(&a.issuer);
            b.lookup_key(issuer.key(), &e.serial)
                .is_some_and(|f| f.revocation_date == e.revocation_date && f.reason == e.reason)
        })
}

fn ocsp_stale(r: &OcspResponse, clock: UnixTime, skew: i64) -> bool {
    r.responses
        .iter()
        .all(|s| s.next_update.unwrap_or(s.this_update).saturating_add(skew.max(0)) < clock)
}

/// Rule 2 for OCSP: `b` answers, later, for every CertID `a` answers for, and says every
/// revocation `a` says (an `unknown` in `a` decides nothing, so anything supersedes it).
fn ocsp_supersedes(b: &OcspResponse, a: &OcspResponse) -> bool {
    b.fingerprint != a.fingerprint
        && a.responses.iter().all(|s| {
            b.responses.iter().any(|t| {
                t.hash == s.hash
                    && t.issuer_name_hash == s.issuer_name_hash
                    && t.issuer_key_hash == s.issuer_key_hash
                    && t.serial == s.serial
                    && t.this_update > s.this_update
                    && match (&s.status, &t.status) {
                        (CertStatus::Revoked { .. }, _) => s.status == t.status,
                        (CertStatus::Good, CertStatus::Unknown) => false,
                        _ => true,
                    }
            })
        })
}
