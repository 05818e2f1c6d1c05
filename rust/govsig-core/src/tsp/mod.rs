//! RFC 3161 time-stamp tokens: is this token a genuine time-stamp, by a trusted TSA, of
//! exactly these bytes?
//!
//! A token is a CMS SignedData whose eContent is a TSTInfo (RFC 3161 §2.4.2). It is judged
//! with the ordinary CMS verification (that of [`crate::cms::verify::verify_document`]: signer
//! lookup, signed attributes, ESS binding, the signature, then the engine's path validation
//! through the same [`TrustContext`]), and then with what RFC 3161 adds:
//!
//! - exactly one SignerInfo, and signed attributes carrying ESS signing-certificate or
//!   signing-certificate-v2 (RFC 3161 §2.4.1, RFC 5816 §2.2.1): without it, a TSA
//!   certificate could be swapped for another with the same key;
//! - the TSA certificate's extendedKeyUsage is id-kp-timeStamping alone, marked critical
//!   (RFC 3161 §2.3): a key certified for anything else (e-mail, TLS, document signing)
//!   cannot mint time-stamps;
//! - the `tsa` name, when it is a directoryName, is the certificate's subject (RFC 3161
//!   §2.4.2; other GeneralName forms are reported as text, not compared);
//! - genTime falls inside the TSA certificate's validity and not after the validation time;
//! - the messageImprint equals the hash of the stamped bytes, with the algorithm the token
//!   names (RFC 3161 §2.4.2).
//!
//! The TSA's chain is validated at the validation time (the policy's `at`, default now), as
//! `openssl ts -verify` does: the time-stamp must be trustworthy today.
//!
//! Outcome codes (see [`crate::outcome`]): `timestamp_invalid` (not a well-formed, intact
//! token), `timestamp_tsa_unauthorized` (its signer is not a time-stamping authority),
//! `timestamp_imprint_mismatch` (a genuine token of other data), `timestamp_untrusted` (the
//! TSA's chain does not validate); for the client side, `timestamp_rejected` and
//! `timestamp_nonce_mismatch` (see [`request`]). When the cause is a code of the ordinary
//! verification (a bad signature, an expired TSA certificate), it is kept in
//! [`TimestampOutcome::cause`].

pub mod request;
pub mod tst_info;

use crate::batch::Engine;
use crate::cms::signed_data;
use crate::cms::verify::{verify_signed_data, TrustContext};
use crate::crypto::DigestAlgorithm;
use crate::outcome::Code;
use crate::revocation::{EvidenceNeed, RevocationEvidence};
use crate::time::UnixTime;
use crate::x509::cert::CertRef;

pub use tst_info::{Accuracy, GenTime, TstInfo};

/// What a token is checked against: the stamped bytes, or their digest computed elsewhere
/// (a large file hashed while streaming, a signature value).
#[derive(Clone, Copy, Debug)]
pub enum Stamped<'a> {
    Data(&'a [u8]),
    /// Bytes given in pieces whose concatenation is stamped (a signed PDF's two ranges, the
    /// detached content of a content time-stamp), hashed piece by piece without joining.
    Parts(&'a [&'a [u8]]),
    Digest {
        algorithm: DigestAlgorithm,
        digest: &'a [u8],
    },
}

/// The verdict on one time-stamp token, with what it says.
#[derive(Clone, Debug)]
pub struct TimestampOutcome {
    pub code: Code,
    pub reason: String,
    /// The ordinary verification code behind a failure (e.g. `signature_invalid` behind
    /// `timestamp_invalid`, `cert_expired` behind `timestamp_untrusted`).
    pub cause: Option<Code>,
    pub gen_time: Option<GenTime>,
    pub accuracy: Option<Accuracy>,
    pub ordering: bool,
    pub serial: Option<Vec<u8>>,
    pub nonce: Option<Vec<u8>>,
    pub policy_oid: Option<String>,
    /// The imprint's hash algorithm (its name), when govsig knows it.
    pub hash_algorithm: Option<&'static str>,
    pub hashed_message: Option<Vec<u8>>,
    /// The TSTInfo `tsa` field, as text.
    pub tsa_name: Option<String>,
    /// The certificate that signed the token.
    pub tsa_certificate: Option<CertRef>,
    /// Leaf (the TSA) first, anchor last; empty unless the chain validated.
    pub chain: Vec<CertRef>,
    pub revocation: Vec<RevocationEvidence>,
    /// Evidence the core lacked for the TSA's chain: fetch it and verify again.
    pub needs: Vec<EvidenceNeed>,
    /// When the TSA's chain was judged (the validation time, or genTime under
    /// tsa_validation="gen_time"); `None` for a standalone check at the call's time.
    pub chain_validated_at: Option<UnixTime>,
    /// What the token stamps, when it was read from a signature: "signature" (a signature
    /// time-stamp over the signature value, RFC 3161 Appendix A) or "content" (a content
    /// time-stamp over the content, RFC 5126 §5.11.4); `None` for a standalone check.
    pub kind: Option<&'static str>,
    /// The token's own signature uses a legacy algorithm admitted by `legacy=True` (what
    /// and by whom): said on the signer it dates as `legacy_algorithm_signature`.
    pub legacy_signature: Option<String>,
}

impl TimestampOutcome {
    fn failure(code: Code, reason: impl Into<String>) -> Self {
        TimestampOutcome {
            code,
            reason: reason.into(),
            cause: None,
            gen_time: None,
            accuracy: None,
            ordering: false,
            serial: None,
            nonce: None,
            policy_oid: None,
            hash_algorithm: None,
            hashed_message: None,
            tsa_name: None,
            tsa_certificate: None,
            chain: Vec::new(),
            revocation: Vec::new(),
            needs: Vec::new(),
            chain_validated_at: None,
            kind: None,
            legacy_signature: None,
        }
    }

    pub fn ok(&self) -> bool {
        self.code == Code::Ok
    }

    /// The TSA certificate's subject (RFC 4514), when the token named a certificate found.
    pub fn tsa_subject(&self) -> Option<String> {
        self.tsa_certificate.as_ref().map(|c| c.subject.to_string())
    }

    fn fail(mut self, code: Code, cause: Option<Code>, reason: String) -> Self {
        self.code = code;
        self.cause = cause;
        self.reason = reason;
        self
    }
}

/// Seconds a TSA's clock may run ahead of the verifier's before its genTime counts as "in
/// the future" (the same margin the policy forgives OCSP responders by default).
const TSA_CLOCK_SKEW: i64 = 300;

/// id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4), OBJECT IDENTIFIER tag included.
const TST_INFO_DER: &[u8] = &[
    0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
];

/// id-kp-timeStamping, dotted as the certificate view stores EKUs.
const KP_TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";
/// id-ce-extKeyUsage (RFC 5280 §4.2.1.12).
const EXT_KEY_USAGE: &str = "2.5.29.37";

/// Verifies a time-stamp token (DER, or BER normalised as for any CMS) against what it
/// stamps, at validation time `at`. Never panics on input; every failure is a result.
pub fn verify_token(ctx: &dyn TrustContext, token: &[u8], stamped: Stamped<'_>, at: UnixTime) -> TimestampOutcome {
    let not_token = |why: String| {
        TimestampOutcome::failure(
            Code::TimestampInvalid,
            format!("not an RFC 3161 time-stamp token: {why}"),
        )
    };
    let decoded = match signed_data::decode(token) {
        Ok(d) => d,
        Err(e) => return not_token(e.0),
    };
    let sd = match signed_data::parse(&decoded.der) {
        Ok(sd) => sd,
        Err(e) => return not_token(e.0),
    };
    // RFC 3161 §2.4.2: eContentType id-ct-TSTInfo, eContent present.
    if sd.econtent_type_der != TST_INFO_DER {
        return not_token(format!(
            "the SignedData carries {} rather than id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4)",
            sd.econtent_type
        ));
    }
    let Some(tst_der) = sd.econtent else {
        return not_token("the TSTInfo is missing (eContent absent)".into());
    };
    // RFC 3161 §2.4.2: the TSTInfo is DER inside the eContent OCTET STRING.
    if !sd.econtent_is_octet_string {
        return not_token("the eContent holding the TSTInfo is not an OCTET STRING (RFC 3161 §2.4.2)".into());
    }
    let tst = match tst_info::parse(tst_der) {
        Ok(t) => t,
        Err(e) => return not_token(e),
    };
    let mut out = TimestampOutcome {
        gen_time: Some(tst.gen_time),
        accuracy: tst.accuracy,
        ordering: tst.ordering,
        serial: Some(tst.serial),
        nonce: tst.nonce,
        policy_oid: Some(tst.policy_oid),
        hash_algorithm: tst.hash_algorithm.as_ref().ok().map(|a| a.name()),
        hashed_message: Some(tst.hashed_message),
        tsa_name: tst.tsa_name,
        // Filled in below once the CMS verdict is known.
        ..TimestampOutcome::failure(Code::Ok, String::new())
    };
    // RFC 3161 §2.4.2: the token carries the TSA's signature and no other.
    let signer = match sd.signers.as_slice() {
        [one] => one,
        [] => return out.fail(Code::TimestampInvalid, None, "the token has no SignerInfo".into()),
        many => {
            return out.fail(
                Code::TimestampInvalid,
                None,
                format!(
                    "the token has {} SignerInfos; RFC 3161 §2.4.2 allows only the TSA's",
                    many.len()
                ),
            )
        }
    };
    // RFC 3161 §2.4.1 / RFC 5816 §2.2.1: the ESS attribute binding the TSA certificate is
    // mandatory. verify_document checks it matches when present; here it must be present.
    if !has_ess_signing_certificate(signer.signed_attrs) {
        return out.fail(
            Code::TimestampInvalid,
            Some(Code::SignedAttributesInvalid),
            "the token's signed attributes lack ESS signing-certificate(-v2), which binds the TSA \
             certificate (RFC 3161 §2.4.1, RFC 5816)"
                .into(),
        );
    }
    // The ordinary CMS verification of the token, path validation included (of the
    // SignedData parsed above: a token is read once).
    let v = verify_signed_data(ctx, &sd);
    let Some(so) = v.signers.into_iter().next() else {
        return out.fail(
            Code::TimestampInvalid,
            Some(v.code),
            format!("the token's CMS: {}", v.reason),
        );
    };
    out.tsa_certificate = so.certificate.clone();
    out.legacy_signature = so
        .warnings
        .iter()
        .find(|w| w.code == crate::warning::WarningCode::LegacyAlgorithmSignature)
        .map(|w| {
            let by = so
                .certificate
                .as_ref()
                .map(|c| format!(" signed by {}", c.describe()))
                .unwrap_or_default();
            format!(
                "the time-stamp token{by}: {}",
                w.detail.replacen("the document signature", "its signature", 1)
            )
        });
    if !so.signature_verified {
        let (code, what) = match so.code {
            // A token issued without certReq carries no certificate (RFC 3161 §2.4.1): the
            // verifier has to be given it, which is a trust-store matter, not a bad token.
            Code::SignerNotFound => (
                Code::TimestampUntrusted,
                "the TSA certificate the token names is neither in the token nor among the \
                 policy's certificates (give it as an intermediate)",
            ),
            Code::UnsupportedAlgorithm | Code::AlgorithmNotAllowed | Code::WeakKey => {
                (Code::TimestampInvalid, "the token's signature cannot be accepted")
            }
            _ => (Code::TimestampInvalid, "the token's own signature is not intact"),
        };
        return out.fail(code, Some(so.code), format!("{what}: {}", so.reason));
    }
    let Some(cert) = so.certificate.clone() else {
        return out.fail(Code::TimestampInvalid, Some(so.code), so.reason);
    };
    // RFC 3161 §2.3: "The corresponding certificate MUST contain only one instance of the
    // extended key usage field extension ... with KeyPurposeID having value
    // id-kp-timeStamping. This extension MUST be critical."
    if let Err(why) = check_tsa_eku(&cert) {
        return out.fail(
            Code::TimestampTsaUnauthorized,
            Some(Code::KeyUsageInvalid),
            format!("the token was signed by {}, which {why}", cert.describe()),
        );
    }
    // RFC 3161 §2.4.2: tsa, when present, names the TSA certificate's subject.
    if let Some(dn) = &tst.tsa_directory_name {
        // The same bytes are the same name; other encodings are compared as RFC 5280 §7.1 says.
        let named = dn.as_slice() == cert.subject.der()
            || crate::x509::Name::from_der(dn)
                .map(|n| n.matches(&cert.subject))
                .unwrap_or(false);
        if !named {
            let why = format!(
                "the TSTInfo names the TSA '{}' but the token is signed by {}",
                out.tsa_name.as_deref().unwrap_or_default(),
                cert.describe()
            );
            return out.fail(Code::TimestampInvalid, None, why);
        }
    }
    // A TSA cannot attest a time at which its certificate was not valid (RFC 3161 §4.1:
    // tokens are checked against the TSA certificate's validity at genTime).
    let gen = tst.gen_time;
    if gen.seconds < cert.not_before || gen.seconds > cert.not_after {
        return out.fail(
            Code::TimestampInvalid,
            None,
            format!(
                "genTime {} is outside the validity of the TSA certificate {} ({} to {})",
                gen.to_rfc3339(),
                cert.describe(),
                crate::time::to_rfc3339(cert.not_before),
                crate::time::to_rfc3339(cert.not_after)
            ),
        );
    }
    // The true time lies within genTime ± accuracy (RFC 3161 §2.4.2); beyond that, a TSA
    // clock a little ahead of ours is forgiven, a token from further in the future is not.
    let accuracy_secs = tst
        .accuracy
        .map(|a| i64::try_from(a.total_micros().div_ceil(1_000_000)).unwrap_or(i64::MAX))
        .unwrap_or(0);
    if gen.seconds.saturating_sub(accuracy_secs) > at.saturating_add(TSA_CLOCK_SKEW) {
        return out.fail(
            Code::TimestampInvalid,
            None,
            format!(
                "genTime {} is after the validation time {}: a time-stamp cannot come from the future",
                gen.to_rfc3339(),
                crate::time::to_rfc3339(at)
            ),
        );
    }
    let hashed_message = out.hashed_message.as_deref().unwrap_or_default();
    if let Err((code, cause, why)) = check_imprint(&tst.hash_algorithm, hashed_message, stamped, ctx.legacy_allowed()) {
        return out.fail(code, cause, why);
    }
    match so.code {
        Code::Ok => {
            out.chain = so.chain;
            out.revocation = so.revocation;
            out.needs = so.needs;
            out.code = Code::Ok;
            out.reason = String::new();
            out
        }
        Code::IntegrityOnly => out.fail(
            Code::TimestampUntrusted,
            Some(Code::IntegrityOnly),
            format!(
                "the token by {} is intact, but there is no trust store to decide whether its TSA is trusted",
                cert.describe()
            ),
        ),
        other => {
            out.needs = so.needs;
            out.fail(
                Code::TimestampUntrusted,
                Some(other),
                format!(
                    "the TSA's certificate chain does not validate ({}): {}",
                    other.name(),
                    so.reason
                ),
            )
        }
    }
}

/// The genTime (whole seconds) a token claims, read without verifying anything: only to
/// choose when its TSA's chain is judged (tsa_validation="gen_time"); the token is then
/// verified in full.
pub fn peek_gen_time(token: &[u8]) -> Option<UnixTime> {
    let decoded = signed_data::decode(token).ok()?;
    let sd = signed_data::parse(&decoded.der).ok()?;
    tst_info::parse(sd.econtent?).ok().map(|t| t.gen_time.seconds)
}

/// RFC 3161 §2.3 on the TSA certificate; the error completes "which ...".
fn check_tsa_eku(cert: &crate::x509::Certificate) -> Result<(), String> {
    let ext = cert.extensions.iter().find(|e| e.oid == EXT_KEY_USAGE);
    let Some(ext) = ext else {
        return Err(
            "has no extendedKeyUsage; a TSA certificate must carry id-kp-timeStamping \
                    (RFC 3161 §2.3)"
                .into(),
        );
    };
    let ekus = cert.extended_key_usage.clone().unwrap_or_default();
    if !ekus.iter().any(|o| o == KP_TIME_STAMPING) {
        return Err(format!(
            "is not certified for time-stamping (extendedKeyUsage {}; RFC 3161 §2.3 requires id-kp-timeStamping)",
            ekus.join(", ")
        ));
    }
    if ekus.len() != 1 {
        return Err(format!(
            "is certified for other purposes too (extendedKeyUsage {}); RFC 3161 §2.3 requires \
             id-kp-timeStamping alone",
            ekus.join(", ")
        ));
    }
    if !ext.critical {
        return Err(
            "carries id-kp-timeStamping in a non-critical extendedKeyUsage; RFC 3161 §2.3 \
                    requires it critical"
                .into(),
        );
    }
    Ok(())
}

type Refusal = (Code, Option<Code>, String);

/// The messageImprint (`hash_algorithm`, `hashed_message`) against what it stamps.
fn check_imprint(
    hash_algorithm: &Result<DigestAlgorithm, crate::crypto::CryptoError>,
    hashed_message: &[u8],
    stamped: Stamped<'_>,
    legacy: bool,
) -> Result<(), Refusal> {
    let alg = match hash_algorithm {
        Ok(a) => *a,
        Err(e) => {
            return Err((
                Code::TimestampInvalid,
                Some(Code::for_crypto_error(e, Code::UnsupportedAlgorithm)),
                format!("the token's messageImprint: {e}"),
            ))
        }
    };
    // A SHA-1 imprint can be matched by a second preimage of a chosen-prefix collision
    // (SHAttered): it proves nothing about the bytes unless the policy accepts legacy.
    if alg.is_legacy() && !legacy {
        return Err((
            Code::TimestampInvalid,
            Some(Code::AlgorithmNotAllowed),
            format!(
                "the token's messageImprint uses {}, a legacy algorithm the policy does not allow",
                alg.name()
            ),
        ));
    }
    if hashed_message.len() != alg.output_len() {
        return Err((
            Code::TimestampInvalid,
            None,
            format!(
                "the token's messageImprint is {} bytes, but {} gives {}",
                hashed_message.len(),
                alg.name(),
                alg.output_len()
            ),
        ));
    }
    let matches = match stamped {
        Stamped::Data(d) => alg.digest(d) == hashed_message,
        Stamped::Parts(parts) => {
            let mut h = alg.hasher();
            for p in parts {
                h.update(p);
            }
            h.finish() == hashed_message
        }
        Stamped::Digest { algorithm, digest } => {
            if algorithm != alg {
                return Err((
                    Code::TimestampImprintMismatch,
                    None,
                    format!(
                        "the token's messageImprint is a {} hash but a {} digest was given to check it \
                         against; give the stamped bytes or their {} digest",
                        alg.name(),
                        algorithm.name(),
                        alg.name()
                    ),
                ));
            }
            digest == hashed_message
        }
    };
    if !matches {
        return Err((
            Code::TimestampImprintMismatch,
            None,
            format!(
                "the token stamps other data: its messageImprint ({} {}) is not the hash of the data given",
                alg.name(),
                hex::encode(hashed_message)
            ),
        ));
    }
    Ok(())
}

fn has_ess_signing_certificate(signed_attrs: Option<&[u8]>) -> bool {
    let Some(raw) = signed_attrs else { return false };
    govsig_asn1::common::split_tlvs(raw)
        .map(|tlvs| {
            tlvs.iter().any(|t| {
                t.parse::<govsig_asn1::cms::Attribute<'_>>()
                    .map(|a| {
                        a.attr_type == govsig_asn1::cms::oid::SIGNING_CERTIFICATE
                            || a.attr_type == govsig_asn1::cms::oid::SIGNING_CERTIFICATE_V2
                    })
                    .unwrap_or(false)
            })
        })
        .unwrap_or(false)
}

impl Engine {
    /// Verifies a time-stamp token against what it stamps, at the policy's time (or now),
    /// with this engine's trust store, intermediates and revocation evidence. Never panics
    /// on input: an internal error becomes `timestamp_invalid`.
    pub fn verify_timestamp(&self, token: &[u8], stamped: Stamped<'_>) -> TimestampOutcome {
        self.verify_timestamp_at(token, stamped, self.default_time())
    }

    /// `verify_timestamp` at `at` (the caller's clock) instead of the policy's time.
    pub fn verify_timestamp_at(&self, token: &[u8], stamped: Stamped<'_>, at: UnixTime) -> TimestampOutcome {
        let ctx = self.trust_context(at);
        // The caches hold no invariant a half-finished check could break (entries are
        // inserted whole), so asserting unwind safety is sound.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| verify_token(&ctx, token, stamped, at)))
            .unwrap_or_else(|_| {
                TimestampOutcome::failure(
                    Code::TimestampInvalid,
                    "internal error while verifying this time-stamp token (please report it)",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tst_info_der_is_the_encoding_of_the_oid() {
        assert_eq!(
            asn1::write_single(&govsig_asn1::tsp::oid::TST_INFO).expect("encodes"),
            TST_INFO_DER
        );
    }
}
