//! Judging an OCSP response for one certificate (RFC 6960 §3.2, §4.2.2).

use std::sync::Arc;

use govsig_asn1::x509::key_usage;

use super::request::{subject_public_key_bits, CertId};
use super::response::{CertStatus, OcspResponse, ResponderId, SingleResponse};
use super::OcspError;
use crate::crypto::{CryptoError, DigestAlgorithm, PublicKey, SignatureScheme};
use crate::outcome::Code;
use crate::policy::{KeyUsageRule, Policy};
use crate::revocation::checker::{EdgeCache, PathContext, PathError, ValidPath};
use crate::revocation::{RevocationChecker, RevocationMode};
use crate::time::{to_rfc3339, UnixTime};
use crate::x509::cert::CertRef;
use crate::x509::path::build_and_validate;
use crate::x509::policy_graph::PolicyInputs;
use crate::x509::{CertPool, TrustStore};

/// id-kp-OCSPSigning (RFC 6960 §4.2.2.2).
const KP_OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";
/// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1).
const OCSP_NOCHECK: &str = "1.3.6.1.5.5.7.48.1.5";

/// How deep responder paths may nest: a delegated responder without id-pkix-ocsp-nocheck
/// has its own revocation checked, which may need another responder.
const MAX_RESPONDER_DEPTH: usize = 2;

/// Extensions of a delegated responder certificate understood when its path is not
/// validated (`ResponderAuthority::IssuerVouched`): any other critical one refuses it
/// (RFC 5280 §4.2). Path modes leave this to the path validator.
const RESPONDER_EXTENSIONS: &[&str] = &[
    "2.5.29.14", // subjectKeyIdentifier
    "2.5.29.15", // keyUsage (checked below)
    "2.5.29.17", // subjectAltName
    "2.5.29.19", // basicConstraints
    "2.5.29.32", // certificatePolicies
    "2.5.29.35", // authorityKeyIdentifier
    "2.5.29.37", // extendedKeyUsage (checked below)
    OCSP_NOCHECK,
];

/// The caller's side of a check: when, how much clock skew to forgive, the nonce sent.
#[derive(Clone, Debug)]
pub struct OcspCheck<'a> {
    /// Validation time: freshness and the responder certificate's validity are judged here.
    pub at: UnixTime,
    /// Seconds of clock difference forgiven on thisUpdate and nextUpdate (RFC 5019 §4 and
    /// RFC 6960 §4.2.2.1 leave the margin to local policy).
    pub skew: i64,
    /// How long after thisUpdate a response without nextUpdate stays usable. RFC 6960
    /// §4.2.2.1: without nextUpdate "newer revocation information is available all the
    /// time", so the default 0 accepts it only within `skew` of thisUpdate.
    pub max_age: i64,
    /// The nonce sent in the request (RFC 8954): the response must echo it.
    pub nonce: Option<&'a [u8]>,
    pub legacy: bool,
    pub min_rsa_bits: usize,
    /// Certificates besides the response's own `certs` that may be the responder's.
    pub other_certs: &'a [CertRef],
    /// Accept an answer whose thisUpdate is after the validation time: it is evidence about
    /// a later time, which the revocation decision uses ("good" or a revocation dated after
    /// T proves C was not revoked at T; see `revocation::decide`). Off for a standalone
    /// check, where such an answer is `ocsp_stale`.
    pub evidence_after_t: bool,
}

impl<'a> OcspCheck<'a> {
    /// Defaults: five minutes of skew, no age beyond thisUpdate without nextUpdate, no
    /// nonce, no legacy algorithms, 2048-bit RSA minimum.
    pub fn new(at: UnixTime) -> OcspCheck<'a> {
        OcspCheck {
            at,
            skew: 300,
            max_age: 0,
            nonce: None,
            legacy: false,
            min_rsa_bits: 2048,
            other_certs: &[],
            evidence_after_t: false,
        }
    }
}

/// How the responder's authority (RFC 6960 §4.2.2.2) is established.
#[derive(Clone, Copy)]
pub enum ResponderAuthority<'c, 'a> {
    /// The caller vouches for `issuer` (it configured it). A delegated responder must be
    /// issued by it (name and signature), carry id-kp-OCSPSigning, be valid at the time
    /// and have no critical extension govsig does not understand; no path is built.
    IssuerVouched,
    /// `issuer` is on a path the caller validated to `anchor` under `ctx` (the revocation
    /// checker's case). A delegated responder must in addition have its own valid path in
    /// `ctx` to the same anchor; its revocation is checked as `ctx` says unless it carries
    /// id-pkix-ocsp-nocheck.
    OnPath {
        ctx: &'c PathContext<'a>,
        anchor: &'c CertRef,
        /// The evidence the responder's own path is checked with, one level deeper.
        revocation: &'c RevocationChecker<'a>,
    },
    /// `issuer` is only a hint: its own path to an anchor of `ctx` is built first (any
    /// keyUsage, no extendedKeyUsage asked), then it is treated as `OnPath` with that anchor.
    Establish(&'c PathContext<'a>),
}

/// A response judged valid for the certificate.
#[derive(Clone, Debug)]
pub struct OcspStatus {
    pub status: CertStatus,
    pub this_update: UnixTime,
    pub next_update: Option<UnixTime>,
    pub produced_at: UnixTime,
    /// The certificate whose key signed the response: the issuer, or a delegated responder.
    pub responder: CertRef,
    /// The responder is a delegated OCSP signer, not the issuer itself.
    pub delegated: bool,
    /// A delegated responder's own validated path and its revocation evidence (None when
    /// the issuer signed, or its authority was vouched for): part of what decided, kept as
    /// evidence (DESIGN "Evidence is kept").
    pub responder_path: Option<Arc<ValidPath>>,
    /// SHA-256 of the DER response.
    pub response_fingerprint: [u8; 32],
    /// The DER response (kept as evidence).
    pub response_der: std::sync::Arc<[u8]>,
    /// The response's signature algorithm (AlgorithmIdentifier DER): results say when a
    /// legacy one was admitted.
    pub signature_algorithm: Vec<u8>,
}

impl OcspStatus {
    /// The outcome the status means for the certificate: `ok` for good, `cert_revoked`,
    /// or `revocation_unknown` (RFC 6960 §2.2: the responder does not know the certificate).
    pub fn code(&self) -> Code {
        match self.status {
            CertStatus::Good => Code::Ok,
            CertStatus::Revoked { .. } => Code::CertRevoked,
            CertStatus::Unknown => Code::RevocationUnknown,
        }
    }

    /// One sentence for reports: the status of `cert` and who said so, when.
    pub fn describe(&self, cert: &crate::x509::Certificate) -> String {
        let status = match self.status {
            CertStatus::Good => "is good".to_owned(),
            CertStatus::Revoked { time, reason } => format!(
                "was revoked on {}{}",
                to_rfc3339(time),
                reason.map(|r| format!(" ({})", r.name())).unwrap_or_default()
            ),
            CertStatus::Unknown => "is unknown to the responder".to_owned(),
        };
        format!(
            "{} {status} according to an OCSP response signed by {}{} (thisUpdate {}{})",
            cert.describe(),
            if self.delegated {
                "delegated responder "
            } else {
                "its issuer "
            },
            self.responder.describe(),
            to_rfc3339(self.this_update),
            self.next_update
                .map(|n| format!(", nextUpdate {}", to_rfc3339(n)))
                .unwrap_or_default()
        )
    }
}

/// Parses and judges `der` for `cert` issued by `issuer`.
pub fn validate_response(
    der: &[u8],
    cert: &CertRef,
    issuer: &CertRef,
    check: &OcspCheck<'_>,
    authority: ResponderAuthority<'_, '_>,
) -> Result<OcspStatus, OcspError> {
    let resp = OcspResponse::from_der(der)?;
    validate_parsed(&resp, cert, issuer, check, authority)
}

/// [`validate_response`] for callers without a path context: with `anchors`, the issuer and
/// any delegated responder are established through paths to them (revocation of those
/// paths is not checked, no CRLs being at hand); without, the issuer is vouched for.
pub fn validate_response_with_anchors(
    der: &[u8],
    cert: &CertRef,
    issuer: &CertRef,
    check: &OcspCheck<'_>,
    anchors: Option<&TrustStore>,
) -> Result<OcspStatus, OcspError> {
    let resp = OcspResponse::from_der(der)?;
    let Some(anchors) = anchors else {
        return validate_parsed(&resp, cert, issuer, check, ResponderAuthority::IssuerVouched);
    };
    let policy = Policy {
        at: Some(check.at),
        legacy: check.legacy,
        min_rsa_bits: check.min_rsa_bits,
        revocation: RevocationMode::Off,
        ..Policy::default()
    };
    let mut pool = CertPool::new();
    pool.add(Arc::clone(issuer));
    for c in resp.certs.iter().chain(check.other_certs) {
        pool.add(Arc::clone(c));
    }
    let edges = EdgeCache::default();
    let rule = KeyUsageRule { any_of: Vec::new() };
    let ctx = PathContext {
        policy: &policy,
        at: check.at,
        anchors,
        pool: &pool,
        edges: &edges,
        leaf_key_usage: &rule,
        revocation: RevocationChecker::off(),
    };
    validate_parsed(&resp, cert, issuer, check, ResponderAuthority::Establish(&ctx))
}

/// Judges a parsed response for `cert` issued by `issuer` (RFC 6960 §3.2): responder and
/// signature, nonce, the SingleResponse for the CertID, its extensions and freshness.
pub fn validate_parsed(
    resp: &OcspResponse,
    cert: &CertRef,
    issuer: &CertRef,
    check: &OcspCheck<'_>,
    authority: ResponderAuthority<'_, '_>,
) -> Result<OcspStatus, OcspError> {
    if let Some(oid) = resp.unknown_critical.first() {
        return Err(OcspError::invalid(format!(
            "the OCSP response has critical extension {oid} that govsig does not process (RFC 6960 §4.4)"
        )));
    }
    if !cert.issuer.matches(&issuer.subject) {
        return Err(OcspError::new(
            Code::ChainUntrusted,
            format!(
                "{} was issued by '{}', not by the issuer given, {}",
                cert.describe(),
                cert.issuer,
                issuer.describe()
            ),
        ));
    }
    let authority = match authority {
        ResponderAuthority::Establish(ctx) => {
            verify_issued_by(cert, issuer, check)?;
            let anchor = establish_issuer(ctx, issuer)?;
            Authority::OnPath(ctx, anchor, RevocationChecker::off())
        }
        ResponderAuthority::OnPath {
            ctx,
            anchor,
            revocation,
        } => Authority::OnPath(ctx, Arc::clone(anchor), revocation),
        ResponderAuthority::IssuerVouched => {
            verify_issued_by(cert, issuer, check)?;
            Authority::Vouched
        }
    };
    // §4.2.2.2 (1)-(3), §3.2 (2)-(4): who signed, and may they speak for this issuer.
    let (responder, delegated, responder_path) = find_responder(resp, issuer, check, &authority)?;
    // RFC 8954 §2.1: a response that does not echo the nonce may be a replay.
    if let Some(n) = check.nonce {
        check_nonce(resp, n)?;
    }
    // §3.2 (1): the response is for the certificate asked about.
    let single = find_single(resp, cert, issuer)?;
    if let Some(oid) = single.unknown_critical.first() {
        return Err(OcspError::invalid(format!(
            "the SingleResponse for {} has critical extension {oid} that govsig does not process (RFC 6960 §4.4)",
            cert.describe()
        )));
    }
    check_freshness(single, cert, check)?;
    Ok(OcspStatus {
        status: single.status,
        this_update: single.this_update,
        next_update: single.next_update,
        produced_at: resp.produced_at,
        responder,
        delegated,
        responder_path,
        response_fingerprint: resp.fingerprint,
        response_der: Arc::clone(&resp.der),
        signature_algorithm: resp.signature_algorithm.clone(),
    })
}

enum Authority<'c, 'a> {
    Vouched,
    OnPath(&'c PathContext<'a>, CertRef, &'c RevocationChecker<'a>),
}

fn crypto_error(e: &CryptoError, what: String) -> OcspError {
    OcspError::new(Code::for_crypto_error(e, Code::OcspInvalid), format!("{what}: {e}"))
}

/// The issuer hint really issued `cert`: otherwise a key of the caller's choosing would
/// vouch for a certificate it never signed.
fn verify_issued_by(cert: &CertRef, issuer: &CertRef, check: &OcspCheck<'_>) -> Result<(), OcspError> {
    let key = issuer.public_key.as_ref().map_err(|e| {
        OcspError::new(
            Code::CertSignatureInvalid,
            format!("cannot use the key of {}: {e}", issuer.describe()),
        )
    })?;
    let verified = cert.signature_octet_aligned
        && SignatureScheme::from_algorithm_identifier(&cert.signature_algorithm)
            .and_then(|s| s.verify(key, cert.tbs(), &cert.signature, check.legacy, check.min_rsa_bits))
            .is_ok();
    if verified {
        Ok(())
    } else {
        Err(OcspError::new(
            Code::CertSignatureInvalid,
            format!(
                "{} was not signed by the key of the issuer given, {}",
                cert.describe(),
                issuer.describe()
            ),
        ))
    }
}

/// A policy for responder and issuer paths: the caller's algorithms and limits, but no
/// signer extendedKeyUsage and no signer certificate-policy requirement (those describe
/// document signers; the responder's own requirement, id-kp-OCSPSigning, is checked here).
fn responder_policy(ctx: &PathContext<'_>) -> Policy {
    let base = ctx.policy;
    Policy {
        extended_key_usage: None,
        policy_inputs: PolicyInputs {
            graph_budget: base.policy_inputs.graph_budget,
            ..PolicyInputs::default()
        },
        ..base.clone()
    }
}

fn establish_issuer(ctx: &PathContext<'_>, issuer: &CertRef) -> Result<CertRef, OcspError> {
    let policy = responder_policy(ctx);
    let rule = KeyUsageRule { any_of: Vec::new() };
    let sub = PathContext {
        policy: &policy,
        leaf_key_usage: &rule,
        ..*ctx
    };
    build_and_validate(&sub, issuer).map(|p| p.anchor).map_err(|e| {
        OcspError::new(
            Code::OcspUnauthorizedResponder,
            format!(
                "the issuer given, {}, has no valid path to a trust anchor: {}",
                issuer.describe(),
                e.reason
            ),
        )
    })
}

fn responder_id_matches(id: &ResponderId, cand: &CertRef) -> bool {
    match id {
        ResponderId::ByName(n) => cand.subject.matches(n),
        // RFC 6960 §4.2.1: KeyHash is the SHA-1 of the key bits whatever the CertID hash.
        ResponderId::ByKey(h) => subject_public_key_bits(cand)
            .map(|b| &DigestAlgorithm::Sha1.digest(&b) == h)
            .unwrap_or(false),
    }
}

fn verify_response_signature(
    resp: &OcspResponse,
    signer: &CertRef,
    check: &OcspCheck<'_>,
    authority: &Authority<'_, '_>,
) -> Result<(), OcspError> {
    // A response's signature by a signer is checked once per engine (keyed like a CRL's).
    let edges = match authority {
        Authority::OnPath(ctx, _, _) => Some(ctx.edges),
        Authority::Vouched => None,
    };
    let k = (signer.fingerprint, resp.fingerprint);
    if let Some(r) = edges.and_then(|e| e.get(&k)) {
        return r.map_err(|e| OcspError::new(e.code, e.reason));
    }
    let r = signature_check(resp, signer, check);
    if let Some(e) = edges {
        e.put(k, r.clone().map_err(PathError::from));
    }
    r
}

fn signature_check(resp: &OcspResponse, signer: &CertRef, check: &OcspCheck<'_>) -> Result<(), OcspError> {
    let what = || {
        format!(
            "the OCSP response signature does not verify with the key of {}",
            signer.describe()
        )
    };
    let key: &PublicKey = signer.public_key.as_ref().map_err(|e| crypto_error(e, what()))?;
    if !resp.signature_octet_aligned {
        return Err(OcspError::invalid(format!(
            "{}: the signature BIT STRING has unused bits",
            what()
        )));
    }
    let scheme =
        SignatureScheme::from_algorithm_identifier(&resp.signature_algorithm).map_err(|e| crypto_error(&e, what()))?;
    scheme
        .verify(key, &resp.tbs, &resp.signature, check.legacy, check.min_rsa_bits)
        .map_err(|e| crypto_error(&e, what()))
}

/// The signer of the response and whether it is delegated (RFC 6960 §4.2.2.2: the CA
/// itself, or a certificate the CA issued for OCSP signing; a locally configured trusted
/// responder is not supported).
fn find_responder(
    resp: &OcspResponse,
    issuer: &CertRef,
    check: &OcspCheck<'_>,
    authority: &Authority<'_, '_>,
) -> Result<(CertRef, bool, Option<Arc<ValidPath>>), OcspError> {
    let mut errors: Vec<OcspError> = Vec::new();
    if responder_id_matches(&resp.responder_id, issuer) {
        match verify_response_signature(resp, issuer, check, authority) {
            Ok(()) => return Ok((Arc::clone(issuer), false, None)),
            Err(e) => errors.push(e),
        }
    }
    let pool_certs: &[CertRef] = match authority {
        Authority::OnPath(ctx, _, _) => ctx.pool.certs(),
        Authority::Vouched => &[],
    };
    let mut seen: Vec<[u8; 32]> = vec![issuer.fingerprint];
    for cand in resp.certs.iter().chain(check.other_certs).chain(pool_certs) {
        if seen.contains(&cand.fingerprint) || !responder_id_matches(&resp.responder_id, cand) {
            continue;
        }
        seen.push(cand.fingerprint);
        if let Err(e) = verify_response_signature(resp, cand, check, authority) {
            errors.push(e);
            continue;
        }
        match authorise_delegate(cand, issuer, check, authority) {
            Ok(path) => return Ok((Arc::clone(cand), true, path)),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        return Err(OcspError::new(
            Code::OcspUnauthorizedResponder,
            format!(
                "the OCSP response was signed by responder {}, which is neither the issuer {} nor any certificate supplied",
                resp.responder_id,
                issuer.describe()
            ),
        ));
    }
    // An authorisation failure says more than a signature that does not verify with a
    // same-named certificate.
    errors.sort_by_key(|e| std::cmp::Reverse(e.code.rank()));
    let code = errors.first().map(|e| e.code).unwrap_or(Code::OcspInvalid);
    let mut needs = Vec::new();
    let mut reasons = Vec::new();
    for e in errors {
        reasons.push(e.reason);
        needs.extend(e.needs);
    }
    Err(OcspError {
        needs,
        ..OcspError::new(code, reasons.join("; "))
    })
}

/// RFC 6960 §4.2.2.2: a delegated responder's certificate is issued directly by the CA
/// that issued the certificate in question and carries id-kp-OCSPSigning.
fn authorise_delegate(
    cand: &CertRef,
    issuer: &CertRef,
    check: &OcspCheck<'_>,
    authority: &Authority<'_, '_>,
) -> Result<Option<Arc<ValidPath>>, OcspError> {
    let unauthorized = |why: String| {
        OcspError::new(
            Code::OcspUnauthorizedResponder,
            format!(
                "responder {} is not authorised for {}: {why}",
                cand.describe(),
                issuer.describe()
            ),
        )
    };
    if !cand.issuer.matches(&issuer.subject) {
        return Err(unauthorized(format!("it was issued by '{}'", cand.issuer)));
    }
    let issuer_key = issuer
        .public_key
        .as_ref()
        .map_err(|e| unauthorized(format!("the issuer's key cannot be used: {e}")))?;
    let verified = SignatureScheme::from_algorithm_identifier(&cand.signature_algorithm).and_then(|s| {
        s.verify(
            issuer_key,
            cand.tbs(),
            &cand.signature,
            check.legacy,
            check.min_rsa_bits,
        )
    });
    // A responder certificate signed with an algorithm the policy does not allow is refused
    // for that (issue 11 item 4), not as one the issuer did not sign.
    if let Err(e @ crate::crypto::CryptoError::LegacyNotAllowed(_)) = &verified {
        return Err(OcspError::new(
            Code::AlgorithmNotAllowed,
            format!(
                "responder {} is not authorised for {}: its certificate's signature: {e}",
                cand.describe(),
                issuer.describe()
            ),
        ));
    }
    let signed = cand.signature_octet_aligned && verified.is_ok();
    if !signed {
        return Err(unauthorized(
            "its certificate was not signed by the issuer's key".into(),
        ));
    }
    // anyExtendedKeyUsage does not stand in for id-kp-OCSPSigning: RFC 6960 §4.2.2.2 asks
    // for the specific purpose, or every TLS server key would speak for its CA.
    let has_ocsp_signing = cand
        .extended_key_usage
        .as_ref()
        .is_some_and(|eku| eku.iter().any(|o| o == KP_OCSP_SIGNING));
    if !has_ocsp_signing {
        return Err(unauthorized(
            "its extendedKeyUsage lacks id-kp-OCSPSigning (RFC 6960 §4.2.2.2)".into(),
        ));
    }
    if !cand.has_key_usage(key_usage::DIGITAL_SIGNATURE) && !cand.has_key_usage(key_usage::NON_REPUDIATION) {
        return Err(unauthorized(
            "its keyUsage allows neither digitalSignature nor nonRepudiation".into(),
        ));
    }
    if check.at < cand.not_before || check.at > cand.not_after {
        return Err(unauthorized(format!(
            "it is valid from {} to {}, not at the validation time {}",
            to_rfc3339(cand.not_before),
            to_rfc3339(cand.not_after),
            to_rfc3339(check.at)
        )));
    }
    let nocheck = cand.extension(OCSP_NOCHECK).is_some();
    match authority {
        Authority::Vouched => {
            if let Some(ext) = cand
                .extensions
                .iter()
                .find(|e| e.critical && !RESPONDER_EXTENSIONS.contains(&e.oid.as_str()))
            {
                return Err(unauthorized(format!(
                    "it has critical extension {} that govsig does not process",
                    ext.oid
                )));
            }
            Ok(None)
        }
        Authority::OnPath(ctx, anchor, rc) => {
            // §4.2.2.2.1: without id-pkix-ocsp-nocheck the responder's own revocation is
            // checked, which may call for another responder: bound the nesting.
            let revocation = if nocheck { RevocationMode::Off } else { rc.mode };
            if revocation != RevocationMode::Off && rc.depth >= MAX_RESPONDER_DEPTH {
                return Err(unauthorized("its path is nested too deeply to validate".into()));
            }
            let policy = responder_policy(ctx);
            let rule = KeyUsageRule {
                any_of: vec![key_usage::DIGITAL_SIGNATURE, key_usage::NON_REPUDIATION],
            };
            // The responder's path runs through the issuer, which the caller may hold
            // outside the pool (it came with the document, or as the hint).
            let known = ctx.anchors.contains(&issuer.fingerprint)
                || ctx.pool.certs().iter().any(|c| c.fingerprint == issuer.fingerprint);
            let extended;
            let pool = if known {
                ctx.pool
            } else {
                let mut p = ctx.pool.clone();
                p.add(Arc::clone(issuer));
                extended = p;
                &extended
            };
            let nested = rc.nested(revocation);
            let sub = PathContext {
                policy: &policy,
                pool,
                leaf_key_usage: &rule,
                revocation: &nested,
                ..**ctx
            };
            match build_and_validate(&sub, cand) {
                Ok(p) if p.anchor.fingerprint == anchor.fingerprint => Ok(Some(Arc::new(p))),
                Ok(p) => Err(unauthorized(format!(
                    "its path ends at trust anchor {}, not at the issuer's anchor {}",
                    p.anchor.describe(),
                    anchor.describe()
                ))),
                Err(e) if e.code == Code::CertRevoked => Err(OcspError::new(
                    Code::OcspUnauthorizedResponder,
                    format!("responder {}: {}", cand.describe(), e.reason),
                )),
                Err(e) => {
                    let refused = unauthorized(format!("its path does not validate: {}", e.reason));
                    Err(OcspError {
                        // A responder refused for an algorithm the policy does not allow
                        // says so (issue 11 item 4), not merely "unauthorised".
                        code: if e.code == Code::AlgorithmNotAllowed {
                            Code::AlgorithmNotAllowed
                        } else {
                            refused.code
                        },
                        needs: e.needs,
                        ..refused
                    })
                }
            }
        }
    }
}

fn check_nonce(resp: &OcspResponse, nonce: &[u8]) -> Result<(), OcspError> {
    let Some(got) = &resp.nonce else {
        return Err(OcspError::new(
            Code::OcspNonceMismatch,
            "the request carried a nonce but the OCSP response has none (a pre-produced or replayed response)",
        ));
    };
    // RFC 8954 §2.1: extnValue holds the nonce as an OCTET STRING. Some responders echo
    // the bare octets; either form proves the response was made for this request.
    let wrapped = asn1::write_single(&nonce).ok();
    if wrapped.as_deref() == Some(got.as_slice()) || got.as_slice() == nonce {
        return Ok(());
    }
    Err(OcspError::new(
        Code::OcspNonceMismatch,
        format!(
            "the OCSP response's nonce {} is not the one sent, {} (a replayed response)",
            hex::encode(got),
            hex::encode(nonce)
        ),
    ))
}

fn find_single<'r>(resp: &'r OcspResponse, cert: &CertRef, issuer: &CertRef) -> Result<&'r SingleResponse, OcspError> {
    let mut ids: Vec<CertId> = Vec::new();
    let mut found: Option<&SingleResponse> = None;
    for single in &resp.responses {
        // SHA-1 in a CertID is a name, not a signature: RFC 5019 §2.1.1 makes it the
        // default, and matching it needs no collision resistance from a signed response.
        let Ok(hash) = single.hash else { continue };
        let id = match ids.iter().find(|i| i.hash == hash) {
            Some(i) => i.clone(),
            None => {
                let i = CertId::new(cert, issuer, hash)?;
                ids.push(i.clone());
                i
            }
        };
        if !id.matches(hash, &single.issuer_name_hash, &single.issuer_key_hash, &single.serial) {
            continue;
        }
        match found {
            None => found = Some(single),
            Some(first) if first.status != single.status => {
                return Err(OcspError::invalid(format!(
                    "the OCSP response answers both {} and {} for {}",
                    first.status.name(),
                    single.status.name(),
                    cert.describe()
                )))
            }
            Some(_) => {}
        }
    }
    found.ok_or_else(|| {
        let serials: Vec<String> = resp.responses.iter().take(4).map(|s| hex::encode(&s.serial)).collect();
        let unsupported = resp.responses.iter().find_map(|s| s.hash.as_ref().err());
        OcspError::invalid(format!(
            "the OCSP response has no answer for {} issued by {} (it answers for serial {}{}){}",
            cert.describe(),
            issuer.describe(),
            serials.join(", "),
            if resp.responses.len() > 4 { ", ..." } else { "" },
            unsupported
                .map(|u| format!("; a CertID uses an unsupported hash: {u}"))
                .unwrap_or_default()
        ))
    })
}

/// RFC 6960 §4.2.2.1 (and §3.2 (5)-(6)): thisUpdate not in the future, nextUpdate (or
/// thisUpdate plus `max_age`) not in the past, both with `skew` forgiven.
fn check_freshness(single: &SingleResponse, cert: &CertRef, check: &OcspCheck<'_>) -> Result<(), OcspError> {
    let at = check.at;
    let skew = check.skew.max(0);
    if let Some(next) = single.next_update {
        if next < single.this_update {
            return Err(OcspError::invalid(format!(
                "the OCSP answer for {} has nextUpdate {} before thisUpdate {}",
                cert.describe(),
                to_rfc3339(next),
                to_rfc3339(single.this_update)
            )));
        }
    }
    if single.this_update > at.saturating_add(skew) && !check.evidence_after_t {
        return Err(OcspError::new(
            Code::OcspStale,
            format!(
                "the OCSP answer for {} has thisUpdate {}, after the validation time {} (clock skew {skew} s)",
                cert.describe(),
                to_rfc3339(single.this_update),
                to_rfc3339(at)
            ),
        ));
    }
    let (limit, what) = match single.next_update {
        Some(next) => (next, format!("its nextUpdate {}", to_rfc3339(next))),
        None => (
            single.this_update.saturating_add(check.max_age.max(0)),
            format!(
                "it has no nextUpdate and its thisUpdate {} is older than the maximum age of {} s",
                to_rfc3339(single.this_update),
                check.max_age.max(0)
            ),
        ),
    };
    if at > limit.saturating_add(skew) {
        return Err(OcspError::new(
            Code::OcspStale,
            format!(
                "the OCSP answer for {} is stale at the validation time {}: {what} (clock skew {skew} s)",
                cert.describe(),
                to_rfc3339(at)
            ),
        ));
    }
    Ok(())
}
