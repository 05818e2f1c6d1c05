//! The trust decision for one document (DESIGN "The trust decision", steps 1-7).

use std::sync::Arc;

use govsig_asn1::cms::{self as asn, oid};

use crate::cms::input::{self, InputForm};
use crate::cms::signed_data::{self, ParsedSigner, SignerIdentity};
use crate::crypto::{CryptoError, DigestAlgorithm, SignatureScheme};
use crate::outcome::Code;
use crate::policy::SignatureTime;
use crate::revocation::crl::CrlIndex;
use crate::revocation::{EvidenceNeed, RevocationEvidence};
use crate::revocation::{PathError, ValidPath};
use crate::time::{self, UnixTime};
use crate::tsp::TimestampOutcome;
use crate::warning::{Warning, WarningCode};
use crate::x509::cert::CertRef;

/// At most this many CRLs carried by one SignedData are examined (see `verify_document`).
pub const MAX_DOCUMENT_CRLS: usize = 64;
/// At most this many certificates carried by one SignedData are examined.
pub const MAX_DOCUMENT_CERTIFICATES: usize = 256;

/// The verdict on one SignerInfo.
#[derive(Clone, Debug)]
pub struct SignerOutcome {
    pub code: Code,
    pub reason: String,
    pub certificate: Option<CertRef>,
    /// Leaf first, anchor last (empty unless a path was validated).
    pub chain: Vec<CertRef>,
    pub signing_time: Option<UnixTime>,
    pub digest_algorithm: Option<&'static str>,
    pub signature_algorithm: Option<&'static str>,
    /// How the SignerInfo named its certificate (see [`SignerOutcome::sid_text`]).
    pub sid: SignerIdentity,
    /// The signature value verified over the content (whatever the trust decision).
    pub signature_verified: bool,
    /// Revocation evidence for each certificate of the chain (which CRL decided).
    pub revocation: Vec<RevocationEvidence>,
    /// Evidence the core lacked (revocation status unknown): fetch it and verify again.
    pub needs: Vec<EvidenceNeed>,
    /// The time the signer was judged at (None when the check stopped before the trust
    /// decision) and where it came from.
    pub signature_time: Option<UnixTime>,
    pub signature_time_source: TimeSource,
    /// Every signature time-stamp token of the signer, then every content time-stamp token,
    /// each judged on its own and marked with its `kind` (read when the policy's
    /// signature_time is not "at" or a time-stamp is required).
    pub timestamps: Vec<TimestampOutcome>,
    /// The countersignatures of this signer (id-countersignature, RFC 5652 §11.4), each a
    /// signer verified over this signer's signature value, with its own countersigners.
    pub countersigners: Vec<SignerOutcome>,
    /// Things that did not fail the signer but must be said: a code of the catalogue
    /// ([`crate::warning`]) and the detail of this case.
    pub warnings: Vec<Warning>,
    /// For a revocation verdict: the path and the evidence that decided it.
    pub decided_by: crate::revocation::DecidedBy,
}

/// Where a signer's judging time came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum TimeSource {
    /// No time was used (the check stopped before the trust decision).
    #[default]
    None = 0,
    /// The policy's `at` (default now).
    At = 1,
    /// The earliest valid signature time-stamp's genTime.
    Timestamp = 2,
    /// The signer's own signingTime attribute (self-asserted).
    Claimed = 3,
}

impl TimeSource {
    /// The names, by number.
    pub const NAMES: [&'static str; 4] = ["none", "at", "timestamp", "claimed"];

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// At most this many signature time-stamp tokens of one signer are judged (and at most
/// this many content time-stamp tokens).
pub const MAX_SIGNATURE_TIMESTAMPS: usize = 16;
/// At most this many countersignatures of one signer are verified.
pub const MAX_COUNTERSIGNATURES: usize = 8;
/// Countersignatures of countersignatures are followed this deep (a document cannot make
/// the verifier recurse without bound).
pub const MAX_COUNTERSIGNATURE_DEPTH: usize = 4;

/// The verdict on one document.
#[derive(Clone, Debug)]
pub struct VerifyOutcome {
    pub code: Code,
    pub reason: String,
    pub signers: Vec<SignerOutcome>,
    /// The input was BER and was normalised to DER before verification.
    pub was_ber: bool,
    /// The signature was detached (content supplied by the caller).
    pub detached: bool,
    pub content_type: Option<String>,
    /// The signed content, when asked for ([`verify_document_keeping_content`]): the
    /// encapsulated content of an attached signature, or the first part of an S/MIME
    /// multipart/signed message. Bulk runs do not keep it (memory stays flat).
    pub content: Option<Vec<u8>>,
    /// How the signature arrived (DER/BER, PEM, S/MIME).
    pub form: InputForm,
}

impl SignerOutcome {
    /// The signer identifier as text, for reports (formatted on demand: bulk runs never pay
    /// for it).
    pub fn sid_text(&self) -> String {
        sid_text(&self.sid)
    }

    /// [`SignerOutcome::sid_text`] with the issuer's name text (see [`issuer_text`]) given
    /// by `issuer` from its DER: a report over many documents formats each issuer once.
    pub fn sid_text_with<S: std::fmt::Display>(&self, issuer: impl FnOnce(&[u8]) -> S) -> String {
        match &self.sid {
            SignerIdentity::IssuerSerial { issuer_der, serial } => {
                format!("issuer '{}', serial {}", issuer(issuer_der), hex::encode(serial))
            }
            SignerIdentity::SubjectKeyId(k) => format!("subjectKeyIdentifier {}", hex::encode(k)),
        }
    }
}

impl SignerOutcome {
    /// This signer's needs, its time-stamps' and its countersigners' (recursively: the core
    /// bounds their depth), so that a countersigner's missing CRL or issuer is fetched too.
    fn collect_needs(&self, into: &mut Vec<EvidenceNeed>) {
        into.extend(self.needs.iter().cloned());
        into.extend(self.timestamps.iter().flat_map(|t| t.needs.iter().cloned()));
        for c in &self.countersigners {
            c.collect_needs(into);
        }
    }
}

impl VerifyOutcome {
    pub fn failure(code: Code, reason: impl Into<String>) -> Self {
        VerifyOutcome {
            code,
            reason: reason.into(),
            signers: Vec::new(),
            was_ber: false,
            detached: false,
            content_type: None,
            content: None,
            form: InputForm::Der,
        }
    }

    pub fn ok(&self) -> bool {
        self.code == Code::Ok
    }

    /// Evidence that could decide an unknown revocation status or complete a path, across
    /// signers, their time-stamps' TSA paths and their countersigners, deduplicated.
    /// (Without the TSAs' needs a fetcher was never asked for a TSA's CRL or OCSP answer:
    /// under hard-fail no token could be trusted, under soft-fail a TSA revoked later was
    /// never seen.)
    pub fn needs(&self) -> Vec<EvidenceNeed> {
        let mut v: Vec<EvidenceNeed> = Vec::new();
        for s in &self.signers {
            s.collect_needs(&mut v);
        }
        v.sort();
        v.dedup();
        v
    }

    /// Every signer's signature verified over the content: the document is intact, even if
    /// the trust decision failed.
    pub fn integrity_ok(&self) -> bool {
        !self.signers.is_empty() && self.signers.iter().all(|s| s.signature_verified)
    }
}

/// What verification of one document needs from its surroundings: certificate parsing
/// (interned across a batch) and path validation (cached across a batch).
pub trait TrustContext: Sync {
    /// Parse (or fetch from the batch's interner) a certificate.
    fn certificate(&self, der: &[u8]) -> Result<CertRef, String>;
    /// Extra untrusted certificates (the caller's intermediates) and anchors, searched for
    /// the signer after the CMS's own certificates.
    fn extra_signer_candidates(&self) -> &[CertRef];
    /// Parse (or fetch from the batch's interner) a CRL carried by the document.
    fn crl(&self, der: &[u8]) -> Result<Arc<CrlIndex>, String>;
    /// Validate a path for the signer at `at` (the signer's signature time), using the
    /// document's certificates as untrusted intermediates and its CRLs as revocation
    /// evidence. `None` when no trust store is configured (integrity only).
    fn validate_signer(
        &self,
        signer: &CertRef,
        document_certs: &[CertRef],
        document_crls: &[Arc<CrlIndex>],
        at: UnixTime,
    ) -> Option<Result<Arc<ValidPath>, PathError>> {
        self.validate_signer_with_ocsp(signer, document_certs, document_crls, &[], at)
    }
    /// `validate_signer` with OCSP answers the document carries (a PDF's DSS) as evidence for
    /// this path only: they never reach the engine's stores, so they decide nothing for
    /// another document.
    fn validate_signer_with_ocsp(
        &self,
        signer: &CertRef,
        document_certs: &[CertRef],
        document_crls: &[Arc<CrlIndex>],
        document_ocsp: &[Arc<crate::revocation::ocsp::OcspResponse>],
        at: UnixTime,
    ) -> Option<Result<Arc<ValidPath>, PathError>>;
    /// The validation time of the call (the policy's `at`, default now).
    fn at(&self) -> UnixTime;
    /// How the signature time is chosen; `(At, false, _)` reads no time-stamps.
    fn time_policy(&self) -> TimePolicy;
    /// Judges one signature time-stamp token over `signature_value` (RFC 3161 Appendix A)
    /// with the TSA trust, at the validation time.
    fn verify_signature_timestamp(&self, token: &[u8], signature_value: &[u8]) -> TimestampOutcome;
    /// Judges one content time-stamp token (id-aa-ets-contentTimestamp) over the content
    /// (the concatenation of `content`), with the same TSA checks.
    fn verify_content_timestamp(&self, token: &[u8], content: &[&[u8]]) -> TimestampOutcome;
    fn legacy_allowed(&self) -> bool;
    fn min_rsa_bits(&self) -> usize;
}

/// The policy's signature-time knobs, as a verification reads them.
#[derive(Clone, Copy, Debug)]
pub struct TimePolicy {
    pub mode: SignatureTime,
    pub require_timestamp: bool,
    pub signing_time_tolerance: i64,
}

impl TimePolicy {
    /// Today's behaviour: every check at `at`, no time-stamps read.
    pub const AT: TimePolicy = TimePolicy {
        mode: SignatureTime::At,
        require_timestamp: false,
        signing_time_tolerance: 3600,
    };
}

fn crypto_to_code(e: &CryptoError) -> Code {
    Code::for_crypto_error(e, Code::SignatureInvalid)
}

/// Verifies one CMS document (DER, BER, PEM or S/MIME). Never panics on input; every
/// failure is a result.
pub fn verify_document(ctx: &dyn TrustContext, signature: &[u8], content: Option<&[u8]>) -> VerifyOutcome {
    verify_document_with(ctx, signature, content, false)
}

/// [`verify_document`], keeping the signed content in [`VerifyOutcome::content`].
pub fn verify_document_keeping_content(
    ctx: &dyn TrustContext,
    signature: &[u8],
    content: Option<&[u8]>,
) -> VerifyOutcome {
    verify_document_with(ctx, signature, content, true)
}

fn verify_document_with(
    ctx: &dyn TrustContext,
    signature: &[u8],
    content: Option<&[u8]>,
    keep_content: bool,
) -> VerifyOutcome {
    let unwrapped = match input::unwrap(signature) {
        Ok(u) => u,
        Err(e) => return VerifyOutcome::failure(Code::Malformed, e.0),
    };
    let form = unwrapped.form;
    // A multipart/signed message carries its content; content given beside it must be the same.
    let content: Option<&[u8]> = match (unwrapped.content.as_deref(), content) {
        (Some(mime), Some(given)) if mime != given => {
            let mut o = VerifyOutcome::failure(
                Code::DigestMismatch,
                "the S/MIME message carries content that differs from the content given",
            );
            o.form = form;
            return o;
        }
        (Some(mime), _) => Some(mime),
        (None, given) => given,
    };
    let mut out = match content {
        Some(c) => verify_decoded(ctx, &unwrapped.signature, Some(&[c]), keep_content, Vec::new()),
        None => verify_decoded(ctx, &unwrapped.signature, None, keep_content, Vec::new()),
    };
    out.form = form;
    if keep_content && out.content.is_none() {
        out.content = unwrapped.content;
    }
    out
}

/// Verifies one CMS document (DER or BER: a signed PDF's /Contents) whose detached content
/// is the concatenation of `parts`, hashed part by part: a signed PDF's content is two
/// ranges of the file around the signature, and copying the file to join them would double
/// the memory of a bulk run.
pub fn verify_document_parts(ctx: &dyn TrustContext, signature: &[u8], content: Option<&[&[u8]]>) -> VerifyOutcome {
    verify_decoded(ctx, signature, content, false, Vec::new())
}

/// [`verify_document_parts`] with digests of the content already computed, by algorithm:
/// the signatures of a PDF share the file's prefix, which is hashed once for all of them.
/// A signer whose digest algorithm is not among them hashes `parts` itself.
pub fn verify_document_parts_digested(
    ctx: &dyn TrustContext,
    signature: &[u8],
    parts: &[&[u8]],
    digests: Vec<(DigestAlgorithm, Vec<u8>)>,
) -> VerifyOutcome {
    verify_decoded(ctx, signature, Some(parts), false, digests)
}

fn verify_decoded(
    ctx: &dyn TrustContext,
    signature: &[u8],
    content: Option<&[&[u8]]>,
    keep_content: bool,
    precomputed: Vec<(DigestAlgorithm, Vec<u8>)>,
) -> VerifyOutcome {
    let decoded = match signed_data::decode(signature) {
        Ok(d) => d,
        Err(e) => return VerifyOutcome::failure(Code::Malformed, e.0),
    };
    let sd = match signed_data::parse(&decoded.der) {
        Ok(sd) => sd,
        Err(e) => {
            let mut o = VerifyOutcome::failure(Code::Malformed, e.0);
            o.was_ber = decoded.was_ber;
            return o;
        }
    };
    verify_parsed(ctx, &sd, decoded.was_ber, content, keep_content, precomputed)
}

/// Verifies a SignedData already parsed (a time-stamp token, read once by `crate::tsp` for
/// its TSTInfo and verified here without parsing it again).
pub(crate) fn verify_signed_data(ctx: &dyn TrustContext, sd: &signed_data::ParsedSignedData<'_>) -> VerifyOutcome {
    verify_parsed(ctx, sd, false, None, false, Vec::new())
}

fn verify_parsed(
    ctx: &dyn TrustContext,
    sd: &signed_data::ParsedSignedData<'_>,
    was_ber: bool,
    content: Option<&[&[u8]]>,
    keep_content: bool,
    precomputed: Vec<(DigestAlgorithm, Vec<u8>)>,
) -> VerifyOutcome {
    let mut out = VerifyOutcome {
        code: Code::Ok,
        reason: String::new(),
        signers: Vec::new(),
        was_ber,
        detached: sd.econtent.is_none(),
        content_type: Some(sd.econtent_type.clone()),
        content: None,
        form: InputForm::Der,
    };
    let encapsulated: [&[u8]; 1];
    let data: &[&[u8]] = match (sd.econtent, content) {
        (Some(enc), Some(given)) if !parts_equal(enc, given) => {
            out.code = Code::DigestMismatch;
            out.reason = "the signature encapsulates content that differs from the content given".into();
            return out;
        }
        (Some(enc), _) => {
            encapsulated = [enc];
            &encapsulated
        }
        (None, Some(given)) => given,
        (None, None) => {
            out.code = Code::ContentMissing;
            out.reason = "detached signature: the signed content must be given".into();
            return out;
        }
    };
    // The content the caller gave (detached) is theirs already: only encapsulated content
    // is handed back.
    if keep_content && sd.econtent.is_some() {
        out.content = Some(data.concat());
    }
    // A document stuffed with evidence (hundreds of CRLs named after its CA, many
    // same-named CA certificates with huge keys in the unsigned certificate and CRL bags)
    // would make every CRL be tried against every candidate signer. Beyond these counts,
    // far above what any real signature carries, the document is refused without trying
    // any of it.
    if sd.crls.len() > MAX_DOCUMENT_CRLS || sd.certificates.len() > MAX_DOCUMENT_CERTIFICATES {
        out.code = Code::BudgetExceeded;
        out.reason = format!(
            "the SignedData carries {} CRL(s) and {} certificate(s); govsig examines at most {MAX_DOCUMENT_CRLS} CRLs \
              and {MAX_DOCUMENT_CERTIFICATES} certificates per document",
            sd.crls.len(),
            sd.certificates.len()
        );
        return out;
    }
    // Certificates carried in the CMS; unparsable ones are ignored unless one turns out to
    // be the signer's (then the signer is reported not found, with the parse error).
    let mut doc_certs = Vec::new();
    let mut cert_errors = Vec::new();
    for der in &sd.certificates {
        match ctx.certificate(der) {
            Ok(c) => doc_certs.push(c),
            Err(e) => cert_errors.push(e),
        }
    }
    // CRLs carried in the CMS are revocation evidence (RFC 5652 §5.1 crls); one that is a
    // CRL but cannot be used is kept as refused evidence (results say why); bytes that are
    // not a CRL at all are no evidence, which the revocation policy then judges.
    let doc_crls: Vec<Arc<CrlIndex>> = sd.crls.iter().filter_map(|der| ctx.crl(der).ok()).collect();
    if sd.signers.is_empty() {
        out.code = Code::SignerNotFound;
        out.reason = "the SignedData has no SignerInfo (a certificate bag, not a signature)".into();
        return out;
    }
    // Digests of the content per algorithm, computed once even with several signers.
    let mut digests: Vec<(DigestAlgorithm, Vec<u8>)> = precomputed;
    let target = Target::Content {
        econtent_type_der: &sd.econtent_type_der,
        econtent_type: &sd.econtent_type,
        octet_string: sd.econtent_is_octet_string,
    };
    let doc = DocumentParts {
        certs: &doc_certs,
        crls: &doc_crls,
        cert_errors: &cert_errors,
    };
    // Sized exactly: a SignerOutcome is some 300 bytes, and a Vec's first growth makes room
    // for four, an allocation large enough to make glibc consolidate its free lists on
    // every document of a batch.
    out.signers.reserve_exact(sd.signers.len());
    for si in &sd.signers {
        let so = verify_signer(ctx, target, si, data, &doc, &mut digests, 0);
        out.signers.push(so);
    }
    // The document is as good as its worst signer; among failures the most specific wins.
    if let Some(bad) = out
        .signers
        .iter()
        .filter(|s| s.code != Code::Ok)
        .max_by_key(|s| s.code.rank())
    {
        out.code = bad.code;
        out.reason = if out.signers.len() > 1 {
            let idx = out.signers.iter().position(|s| std::ptr::eq(s, bad)).unwrap_or(0);
            format!("signer #{}: {}", idx + 1, bad.reason)
        } else {
            bad.reason.clone()
        };
    } else if out.signers.iter().all(|s| s.code == Code::Ok) {
        out.code = Code::Ok;
    }
    out
}

/// The text of a signer identifier's issuer name, from its DER.
pub fn issuer_text(issuer_der: &[u8]) -> String {
    crate::x509::Name::from_der(issuer_der)
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "<unreadable name>".into())
}

fn sid_text(sid: &SignerIdentity) -> String {
    match sid {
        SignerIdentity::IssuerSerial { issuer_der, serial } => {
            format!("issuer '{}', serial {}", issuer_text(issuer_der), hex::encode(serial))
        }
        SignerIdentity::SubjectKeyId(k) => format!("subjectKeyIdentifier {}", hex::encode(k)),
    }
}

/// Every certificate the signer identifier names: the document's own first, then the
/// caller's, each once. Several can match (the same issuer and serial, or SKI, on certificates
/// with other keys in the unsigned certificate bag); each is tried in turn.
fn find_signers(sid: &SignerIdentity, doc_certs: &[CertRef], extra: &[CertRef]) -> Vec<CertRef> {
    // The issuer name is parsed at most once, and only when a serial matches but the bytes
    // of the names differ (RFC 5280 §7.1 comparison).
    let sid_issuer = std::cell::OnceCell::new();
    let matches = |c: &CertRef| match sid {
        SignerIdentity::IssuerSerial { issuer_der, serial } => {
            c.serial == *serial
                && (c.issuer.der() == issuer_der.as_slice()
                    || sid_issuer
                        .get_or_init(|| crate::x509::Name::from_der(issuer_der).ok())
                        .as_ref()
                        .is_some_and(|n| n.matches(&c.issuer)))
        }
        SignerIdentity::SubjectKeyId(k) => c.subject_key_id.as_deref() == Some(k.as_slice()),
    };
    let mut found: Vec<CertRef> = Vec::new();
    for c in doc_certs.iter().chain(extra.iter()) {
        if matches(c) && !found.iter().any(|f| f.fingerprint == c.fingerprint) {
            found.push(Arc::clone(c));
        }
    }
    found
}

/// What the signed attributes say, once each was checked for its syntax.
struct Attrs {
    content_type: Option<Vec<u8>>,
    message_digest: Option<Vec<u8>>,
    signing_time: Option<UnixTime>,
    /// (hash algorithm, certHash, issuerSerial serial) of the first ESSCertID(v2).
    signing_cert: Option<(DigestAlgorithm, Vec<u8>, Option<Vec<u8>>)>,
    /// CMSAlgorithmProtection (RFC 6211): the digestAlgorithm TLV and the content octets of
    /// the [1] IMPLICIT signatureAlgorithm.
    algorithm_protection: Option<(Vec<u8>, Option<Vec<u8>>)>,
}

/// The attribute types that may appear at most once in signedAttrs, each with a single
/// value, with the clause that says so and the name messages use.
const SINGLE_INSTANCE: &[(asn1::ObjectIdentifier, &str, &str)] = &[
    (oid::CONTENT_TYPE, "contentType", "RFC 5652 §11.1"),
    (oid::MESSAGE_DIGEST, "messageDigest", "RFC 5652 §11.2"),
    (oid::SIGNING_TIME, "signingTime", "RFC 5652 §11.3"),
    (oid::SIGNING_CERTIFICATE, "signingCertificate", "RFC 2634 §5.4"),
    (oid::SIGNING_CERTIFICATE_V2, "signingCertificateV2", "RFC 5035 §3"),
    (oid::CMS_ALGORITHM_PROTECTION, "cmsAlgorithmProtection", "RFC 6211 §2"),
];

/// `CMSAlgorithmProtection` (RFC 6211 §2; the module has IMPLICIT TAGS): the digestAlgorithm
/// TLV, and the content octets of `signatureAlgorithm [1]`, read by hand so that the exact
/// bytes can be compared with the SignerInfo's. `Err` says what is wrong.
fn parse_algorithm_protection(v: &asn1::Tlv<'_>) -> Result<(Vec<u8>, Option<Vec<u8>>), String> {
    const SEQUENCE: u8 = 0x30;
    const SIGNATURE_ALGORITHM: u8 = 0xa1;
    const MAC_ALGORITHM: u8 = 0xa2;
    let what = "cmsAlgorithmProtection attribute is not a CMSAlgorithmProtection (RFC 6211 §2)";
    if v.full_data().first() != Some(&SEQUENCE) {
        return Err(what.to_owned());
    }
    #[allow(clippy::result_large_err)] // rust-asn1's ParseError
    let elements = asn1::parse(v.data(), |p| {
        let mut out = Vec::new();
        while !p.is_empty() {
            out.push(p.read_element::<asn1::Tlv<'_>>()?);
        }
        Ok(out)
    })
    .map_err(|e: asn1::ParseError| format!("{what}: {}", govsig_asn1::common::explain(&e)))?;
    let Some((digest, rest)) = elements.split_first() else {
        return Err(format!("{what}: it is empty"));
    };
    if digest.full_data().first() != Some(&SEQUENCE) {
        return Err(format!("{what}: digestAlgorithm is not an AlgorithmIdentifier"));
    }
    let mut signature = None;
    for t in rest {
        match t.full_data().first().copied() {
            Some(SIGNATURE_ALGORITHM) if signature.is_none() => signature = Some(t.data().to_vec()),
            Some(MAC_ALGORITHM) => {
                return Err(
                    "cmsAlgorithmProtection in a SignedData must not carry a macAlgorithm (RFC 6211 §2)".to_owned(),
                )
            }
            _ => return Err(format!("{what}: unexpected element after digestAlgorithm")),
        }
    }
    if signature.is_none() {
        return Err("cmsAlgorithmProtection in a SignedData must carry signatureAlgorithm (RFC 6211 §2)".to_owned());
    }
    Ok((digest.full_data().to_vec(), signature))
}

/// Why a signingTime value is not a valid Time, in words a person can act on.
fn signing_time_problem(v: &asn1::Tlv<'_>) -> String {
    let body = v.data();
    const UTC_TIME: u8 = 0x17;
    const GENERALIZED_TIME: u8 = 0x18;
    let tag = v.full_data().first().copied();
    let text = String::from_utf8_lossy(body);
    match tag {
        Some(UTC_TIME) => {
            if let Some(pos) = body.iter().position(|b| *b == b'+' || *b == b'-') {
                format!(
                    "signingTime is a UTCTime with a timezone offset ('{}', offset '{}'); DER requires UTC \
                     written with 'Z' (YYMMDDHHMMSSZ, RFC 5652 §11.3, RFC 5280 §4.1.2.5.1)",
                    text.escape_debug(),
                    String::from_utf8_lossy(&body[pos..]).escape_debug()
                )
            } else {
                format!(
                    "signingTime is not a valid UTCTime ('{}'); DER requires YYMMDDHHMMSSZ (RFC 5652 §11.3)",
                    text.escape_debug()
                )
            }
        }
        Some(GENERALIZED_TIME) => format!(
            "signingTime is not a valid GeneralizedTime ('{}'); DER requires YYYYMMDDHHMMSSZ without \
             fractional seconds of trailing zeros (RFC 5652 §11.3, RFC 5280 §4.1.2.5.2)",
            text.escape_debug()
        ),
        _ => "signingTime is neither a UTCTime nor a GeneralizedTime (RFC 5652 §11.3)".to_owned(),
    }
}

fn parse_attrs(raw: &[u8]) -> Result<Attrs, (Code, String)> {
    let bad = |m: String| (Code::SignedAttributesInvalid, m);
    #[allow(clippy::result_large_err)] // rust-asn1's ParseError
    let attrs = asn1::parse(raw, |p| {
        let mut v = Vec::new();
        while !p.is_empty() {
            v.push(p.read_element::<asn::Attribute<'_>>()?);
        }
        Ok(v)
    })
    .map_err(|e: asn1::ParseError| {
        bad(format!(
            "signed attributes are malformed: {}",
            govsig_asn1::common::explain(&e)
        ))
    })?;
    let mut out = Attrs {
        content_type: None,
        message_digest: None,
        signing_time: None,
        signing_cert: None,
        algorithm_protection: None,
    };
    // Which SINGLE_INSTANCE types were seen (a bit each). Other attributes may repeat: two
    // content time-stamps, say, are legal (RFC 5652 §5.3 does not forbid repetition; the
    // "at most once" rules are in each attribute's own definition).
    let mut seen: u8 = 0;
    for a in &attrs {
        let Some(idx) = SINGLE_INSTANCE.iter().position(|(o, _, _)| *o == a.attr_type) else {
            continue;
        };
        let (_, name, clause) = SINGLE_INSTANCE[idx];
        let bit = 1u8 << idx;
        if seen & bit != 0 {
            return Err(bad(format!(
                "signed attribute {name} appears more than once ({clause} allows one)"
            )));
        }
        seen |= bit;
        let values = a.attr_values.elements();
        let v = match values.as_slice() {
            [v] => *v,
            _ => {
                return Err(bad(format!(
                    "signed attribute {name} has {} values; it must have exactly one ({clause})",
                    values.len()
                )))
            }
        };
        if a.attr_type == oid::CONTENT_TYPE {
            v.parse::<asn1::ObjectIdentifier>()
                .map_err(|_| bad("contentType attribute is not an OBJECT IDENTIFIER (RFC 5652 §11.1)".to_owned()))?;
            out.content_type = Some(v.full_data().to_vec());
        } else if a.attr_type == oid::MESSAGE_DIGEST {
            let d = v
                .parse::<&[u8]>()
                .map_err(|_| bad("messageDigest attribute is not an OCTET STRING (RFC 5652 §11.2)".to_owned()))?;
            out.message_digest = Some(d.to_vec());
        } else if a.attr_type == oid::SIGNING_TIME {
            let t = v
                .parse::<govsig_asn1::common::Time>()
                .map_err(|_| bad(signing_time_problem(&v)))?;
            // RFC 5652 §11.3: "Dates between 1 January 1950 and 31 December 2049 (inclusive)
            // MUST be encoded as UTCTime"; a GeneralizedTime there is not a signingTime.
            if let govsig_asn1::common::Time::GeneralizedTime(g) = &t {
                let year = g.as_datetime().year();
                if (1950..2050).contains(&year) {
                    return Err(bad(format!(
                        "signingTime is a GeneralizedTime for {year}; dates from 1950 to 2049 must be \
                         written as UTCTime (RFC 5652 §11.3)"
                    )));
                }
            }
            out.signing_time = Some(time::from_time(&t));
        } else if a.attr_type == oid::SIGNING_CERTIFICATE_V2 {
            let sc = v.parse::<asn::SigningCertificateV2<'_>>().map_err(|e| {
                bad(format!(
                    "signingCertificateV2 attribute is not a SigningCertificateV2 (RFC 5035 §3): {e}"
                ))
            })?;
            let first = sc.certs.clone().next().ok_or_else(|| {
                bad("signingCertificateV2 attribute lists no certificate; the first ESSCertIDv2 must name the signer's (RFC 5035 §3)".to_owned())
            })?;
            // RFC 5035 §4: hashAlgorithm DEFAULT id-sha256.
            let alg = match &first.hash_algorithm {
                None => DigestAlgorithm::Sha256,
                Some(ai) => {
                    let der = asn1::write_single(ai)
                        .map_err(|e| bad(format!("signingCertificateV2 hashAlgorithm: {e:?}")))?;
                    DigestAlgorithm::from_algorithm_identifier(&der).map_err(|e| {
                        (
                            Code::UnsupportedAlgorithm,
                            format!("signingCertificateV2 hashAlgorithm: {e}"),
                        )
                    })?
                }
            };
            if first.cert_hash.len() != alg.output_len() {
                return Err(bad(format!(
                    "signingCertificateV2 certHash has {} octets but {} gives {} (RFC 5035 §4)",
                    first.cert_hash.len(),
                    alg.name(),
                    alg.output_len()
                )));
            }
            let serial = first.issuer_serial.as_ref().map(|is| is.serial.as_bytes().to_vec());
            out.signing_cert = Some((alg, first.cert_hash.to_vec(), serial));
        } else if a.attr_type == oid::SIGNING_CERTIFICATE {
            let sc = v.parse::<asn::SigningCertificateV1<'_>>().map_err(|e| {
                bad(format!(
                    "signingCertificate attribute is not a SigningCertificate (RFC 2634 §5.4): {e}"
                ))
            })?;
            let first = sc.certs.clone().next().ok_or_else(|| {
                bad("signingCertificate attribute lists no certificate; the first ESSCertID must name the signer's (RFC 2634 §5.4)".to_owned())
            })?;
            if first.cert_hash.len() != DigestAlgorithm::Sha1.output_len() {
                return Err(bad(format!(
                    "signingCertificate certHash has {} octets; a SHA-1 hash has 20 (RFC 2634 §5.4.1)",
                    first.cert_hash.len()
                )));
            }
            // The v2 attribute, when both are present, is the one that binds (RFC 5035 §5.4);
            // bit 4 is signingCertificateV2 in SINGLE_INSTANCE.
            if seen & (1 << 4) == 0 {
                let serial = first.issuer_serial.as_ref().map(|is| is.serial.as_bytes().to_vec());
                out.signing_cert = Some((DigestAlgorithm::Sha1, first.cert_hash.to_vec(), serial));
            }
        } else if a.attr_type == oid::CMS_ALGORITHM_PROTECTION {
            out.algorithm_protection = Some(parse_algorithm_protection(&v).map_err(bad)?);
        }
    }
    Ok(out)
}

/// The content octets of a TLV (an AlgorithmIdentifier's SEQUENCE body).
fn tlv_body(der: &[u8]) -> &[u8] {
    asn1::parse_single::<asn1::Tlv<'_>>(der)
        .map(|t| t.data())
        .unwrap_or(der)
}

/// Whether two AlgorithmIdentifiers (their content octets: the OID, then any parameters)
/// name the same algorithm: the same OID and the same parameters, where absent parameters
/// and NULL are one (RFC 5754 §2 and RFC 4055 §2.1 let writers choose either; RFC 6211's
/// protection compares algorithms, not their encodings). Anything else must match exactly.
fn same_algorithm(a: &[u8], b: &[u8]) -> bool {
    fn split(body: &[u8]) -> Option<(&[u8], &[u8])> {
        let first = govsig_asn1::common::split_tlvs(body).ok()?.first()?.full_data().len();
        let (oid, rest) = body.split_at(first);
        Some((oid, if rest == [0x05, 0x00] { &[][..] } else { rest }))
    }
    match (split(a), split(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Why one candidate certificate did not verify the signature.
struct CandidateFailure {
    /// The candidate's position among the certificates the identifier matched.
    index: usize,
    code: Code,
    reason: String,
}

/// What a SignerInfo signs.
#[derive(Clone, Copy)]
enum Target<'a> {
    /// The SignedData's content (encapsulated or detached).
    Content {
        econtent_type_der: &'a [u8],
        econtent_type: &'a str,
        octet_string: bool,
    },
    /// The signature value of another SignerInfo (a countersignature, RFC 5652 §11.4).
    Countersigned,
}

/// What the document carries beside its signers: certificates and CRLs to build paths with.
struct DocumentParts<'a> {
    certs: &'a [CertRef],
    crls: &'a [Arc<CrlIndex>],
    cert_errors: &'a [String],
}

/// Verifies one SignerInfo over `data`, then its countersignatures (RFC 5652 §11.4) over its
/// signature value, recursively up to [`MAX_COUNTERSIGNATURE_DEPTH`].
fn verify_signer(
    ctx: &dyn TrustContext,
    target: Target<'_>,
    si: &ParsedSigner<'_>,
    data: &[&[u8]],
    doc: &DocumentParts<'_>,
    digests: &mut Vec<(DigestAlgorithm, Vec<u8>)>,
    depth: usize,
) -> SignerOutcome {
    let mut so = verify_one_signer(ctx, target, si, data, doc, digests);
    let values = attribute_values(si.unsigned_attrs, &oid::COUNTER_SIGNATURE);
    // At most MAX_COUNTERSIGNATURES results, and one for the rest (sized as in `verify_parsed`).
    so.countersigners
        .reserve_exact(values.len().min(MAX_COUNTERSIGNATURES + 1));
    for (k, der) in values.iter().enumerate() {
        let cs = if k >= MAX_COUNTERSIGNATURES || depth >= MAX_COUNTERSIGNATURE_DEPTH {
            // One result stands for every countersignature not verified here: the values are
            // unsigned and cost two bytes each, so one result per value would let a small
            // document fill memory and the report with results.
            let sid = signed_data::parse_signer_info(der).map_or_else(|_| si.sid.clone(), |c| c.sid);
            let mut o = SignerOutcome::empty(sid);
            o.code = Code::BudgetExceeded;
            o.reason = format!(
                "{} countersignature(s) not verified: govsig verifies at most {MAX_COUNTERSIGNATURES} \
                 countersignatures per signer, {MAX_COUNTERSIGNATURE_DEPTH} levels deep",
                values.len() - k
            );
            so.countersigners.push(o);
            break;
        } else {
            match signed_data::parse_signer_info(der) {
                Ok(csi) => {
                    let mut own_digests = Vec::new();
                    verify_signer(
                        ctx,
                        Target::Countersigned,
                        &csi,
                        &[si.signature],
                        doc,
                        &mut own_digests,
                        depth + 1,
                    )
                }
                Err(e) => {
                    let mut o = SignerOutcome::empty(si.sid.clone());
                    o.code = Code::Malformed;
                    o.reason = format!("the countersignature is not a SignerInfo: {}", e.0);
                    o
                }
            }
        };
        so.countersigners.push(cs);
    }
    let bad = |c: &SignerOutcome| !c.signature_verified || !matches!(c.code, Code::Ok | Code::IntegrityOnly);
    let failed = so.countersigners.iter().filter(|c| bad(c)).count();
    if failed > 0 {
        so.warnings.push(Warning::new(
            WarningCode::CountersignatureInvalid,
            format!(
                "{failed} of {} countersignature(s) failed; see countersigners",
                so.countersigners.len()
            ),
        ));
    }
    so
}

impl SignerOutcome {
    /// A signer about which nothing is known yet (the verification fills it in).
    fn empty(sid: SignerIdentity) -> Self {
        SignerOutcome {
            code: Code::Ok,
            reason: String::new(),
            certificate: None,
            chain: Vec::new(),
            signing_time: None,
            digest_algorithm: None,
            signature_algorithm: None,
            sid,
            signature_verified: false,
            revocation: Vec::new(),
            needs: Vec::new(),
            signature_time: None,
            signature_time_source: TimeSource::None,
            timestamps: Vec::new(),
            countersigners: Vec::new(),
            warnings: Vec::new(),
            decided_by: Default::default(),
        }
    }
}

fn verify_one_signer(
    ctx: &dyn TrustContext,
    target: Target<'_>,
    si: &ParsedSigner<'_>,
    data: &[&[u8]],
    doc: &DocumentParts<'_>,
    digests: &mut Vec<(DigestAlgorithm, Vec<u8>)>,
) -> SignerOutcome {
    let (doc_certs, doc_crls, cert_errors) = (doc.certs, doc.crls, doc.cert_errors);
    let mut so = SignerOutcome::empty(si.sid.clone());
    macro_rules! fail {
        ($code:expr, $($arg:tt)*) => {{
            so.code = $code;
            so.reason = format!($($arg)*);
            return so;
        }};
    }
    if matches!(
        target,
        Target::Content {
            octet_string: false,
            ..
        }
    ) {
        so.warnings.push(Warning::new(
            WarningCode::EcontentNotOctetString,
            "the eContent is not an OCTET STRING: PKCS#7 v1.5 content ([0] EXPLICIT ANY, RFC 2315 §7); \
             its value octets were digested (RFC 2315 §9.3)",
        ));
    }
    let digest = match DigestAlgorithm::from_algorithm_identifier(si.digest_algorithm) {
        Ok(d) => d,
        // Some national-ID and PDF signing tools write the signature algorithm
        // (sha256WithRSAEncryption) where the digest algorithm belongs; OpenSSL and
        // BouncyCastle read it as its hash, and so do we, saying so.
        Err(e) => match SignatureScheme::from_algorithm_identifier(si.digest_algorithm) {
            Ok(s) if s.pss_salt_length().is_none() && s.digest().is_some() => {
                let d = s.digest().unwrap_or(DigestAlgorithm::Sha256);
                so.warnings.push(Warning::new(
                    WarningCode::DigestAlgorithmIsSignatureAlgorithm,
                    format!(
                        "digestAlgorithm holds the signature algorithm {} instead of a digest algorithm; \
                         read as its hash {} (as OpenSSL and BouncyCastle do)",
                        s.name(),
                        d.name()
                    ),
                ));
                d
            }
            _ => fail!(crypto_to_code(&e), "digestAlgorithm: {e}"),
        },
    };
    so.digest_algorithm = Some(digest.name());
    let scheme = match SignatureScheme::for_cms(si.signature_algorithm, digest) {
        Ok(s) => s,
        Err(e) => fail!(crypto_to_code(&e), "signatureAlgorithm: {e}"),
    };
    so.signature_algorithm = Some(scheme.name());
    if digest.is_legacy() || scheme.is_legacy() {
        if !ctx.legacy_allowed() {
            fail!(
                Code::AlgorithmNotAllowed,
                "{} with {} is a legacy algorithm and the policy does not allow legacy",
                scheme.name(),
                digest.name()
            );
        }
        so.warnings.push(Warning::new(
            WarningCode::LegacyAlgorithmSignature,
            format!(
                "the document signature uses {} with {}, a legacy algorithm admitted by legacy=True",
                scheme.name(),
                digest.name()
            ),
        ));
    }
    let extra = ctx.extra_signer_candidates();
    let candidates = find_signers(&si.sid, doc_certs, extra);
    if candidates.is_empty() {
        let note = if cert_errors.is_empty() {
            String::new()
        } else {
            format!(
                " ({} embedded certificate(s) unreadable: {})",
                cert_errors.len(),
                cert_errors.join("; ")
            )
        };
        fail!(
            Code::SignerNotFound,
            "no certificate for signer {}{}",
            sid_text(&si.sid),
            note
        );
    }
    let mut signing_cert = None;
    let message: std::borrow::Cow<'_, [u8]> = match si.signed_attrs {
        Some(raw) => {
            let attrs = match parse_attrs(raw) {
                Ok(a) => a,
                Err((code, reason)) => fail!(code, "{reason}"),
            };
            so.signing_time = attrs.signing_time;
            // RFC 5652 §5.3/§11.1: contentType must be present and equal eContentType; a
            // countersignature has no content type and must not carry one (§11.4).
            match (&attrs.content_type, target) {
                (None, Target::Content { .. }) => fail!(
                    Code::SignedAttributesInvalid,
                    "signed attributes lack contentType (RFC 5652 §5.3)"
                ),
                (
                    Some(ct),
                    Target::Content {
                        econtent_type_der,
                        econtent_type,
                        ..
                    },
                ) if ct.as_slice() != econtent_type_der => {
                    fail!(
                        Code::ContentTypeMismatch,
                        "contentType attribute differs from eContentType {}",
                        econtent_type
                    )
                }
                (Some(_), Target::Countersigned) => fail!(
                    Code::SignedAttributesInvalid,
                    "a countersignature's signed attributes must not carry contentType (RFC 5652 §11.4)"
                ),
                _ => {}
            }
            // RFC 6211 §3: the protected algorithms must be the SignerInfo's own; a
            // mismatch means an algorithm was substituted after signing.
            if let Some((dig, sig)) = &attrs.algorithm_protection {
                if !same_algorithm(tlv_body(dig), tlv_body(si.digest_algorithm)) {
                    fail!(
                        Code::SignedAttributesInvalid,
                        "cmsAlgorithmProtection names a digestAlgorithm other than the SignerInfo's (RFC 6211 §3)"
                    );
                }
                if !sig
                    .as_deref()
                    .is_some_and(|sig| same_algorithm(sig, tlv_body(si.signature_algorithm)))
                {
                    fail!(
                        Code::SignedAttributesInvalid,
                        "cmsAlgorithmProtection names a signatureAlgorithm other than the SignerInfo's (RFC 6211 §3)"
                    );
                }
            }
            let md = match &attrs.message_digest {
                None => fail!(
                    Code::SignedAttributesInvalid,
                    "signed attributes lack messageDigest (RFC 5652 §5.3)"
                ),
                Some(md) => md,
            };
            if md.len() != digest.output_len() {
                fail!(
                    Code::SignedAttributesInvalid,
                    "messageDigest attribute holds {} octets but a {} digest has {} (RFC 5652 §11.2)",
                    md.len(),
                    digest.name(),
                    digest.output_len()
                );
            }
            let known = digests.iter().position(|(a, _)| *a == digest);
            let at = known.unwrap_or_else(|| {
                let mut h = digest.hasher();
                for part in data {
                    h.update(part);
                }
                digests.push((digest, h.finish()));
                digests.len() - 1
            });
            let computed: &[u8] = digests.get(at).map_or(&[], |(_, d)| d.as_slice());
            if computed != md.as_slice() {
                fail!(
                    Code::DigestMismatch,
                    "the content's {} digest does not match the messageDigest attribute",
                    digest.name()
                );
            }
            signing_cert = attrs.signing_cert;
            // RFC 5652 §5.4: the signature covers the DER SET OF, i.e. the attributes with
            // the SET tag instead of the IMPLICIT [0].
            let mut m = Vec::with_capacity(raw.len() + 6);
            m.push(0x31);
            crate::crypto::der::push_len(&mut m, raw.len());
            m.extend_from_slice(raw);
            std::borrow::Cow::Owned(m)
        }
        None => {
            // RFC 5652 §5.3: signedAttrs MUST be present when eContentType is not id-data.
            // A countersignature without them signs the signature value octets (§11.4).
            if let Target::Content {
                econtent_type_der,
                econtent_type,
                ..
            } = target
            {
                if econtent_type_der != ID_DATA_DER {
                    fail!(
                        Code::SignedAttributesInvalid,
                        "eContentType is {} but there are no signed attributes (RFC 5652 §5.3)",
                        econtent_type
                    );
                }
            }
            // Without signed attributes the signature is over the content itself; the
            // verifier takes one message, so content in several parts is joined here (the
            // rare legacy case: PDF signers write signed attributes).
            match data {
                [one] => std::borrow::Cow::Borrowed(*one),
                parts => std::borrow::Cow::Owned(parts.concat()),
            }
        }
    };
    let issuer_of = |c: &crate::x509::Certificate| -> Option<CertRef> {
        doc_certs
            .iter()
            .chain(extra.iter())
            .find(|i| i.subject.matches(&c.issuer) && i.fingerprint != c.fingerprint)
            .cloned()
    };
    // Each certificate the identifier names is tried, and every one that verifies the
    // signature is judged: a copy of the signer's certificate with a broken outer signature,
    // or another certificate for the same key, placed first in the unsigned bag must not hide
    // the intact one. The first whose judgement succeeds is the signer.
    let mut failures: Vec<CandidateFailure> = Vec::new();
    let mut verified: Vec<(usize, CertRef)> = Vec::new();
    for (i, cert) in candidates.iter().enumerate() {
        // RFC 5035 §5.4: the certificate named by signing-certificate(-v2) must be the
        // one used to verify; it stops certificate substitution. A SHA-1 ESS hash (RFC 2634
        // v1 attribute) only identifies the certificate inside content that the signature
        // already protects, so the legacy gate does not apply to it.
        if let Some((alg, hash, serial)) = &signing_cert {
            if *cert.hash_with(*alg) != *hash.as_slice() {
                failures.push(CandidateFailure {
                    index: i,
                    code: Code::SigningCertificateMismatch,
                    reason: format!(
                        "the signing-certificate attribute names a certificate other than {}",
                        cert.describe()
                    ),
                });
                continue;
            }
            if let Some(s) = serial {
                if s.as_slice() != cert.serial.as_slice() {
                    failures.push(CandidateFailure {
                        index: i,
                        code: Code::SigningCertificateMismatch,
                        reason: format!(
                            "the signing-certificate attribute's serial differs from {}",
                            cert.describe()
                        ),
                    });
                    continue;
                }
            }
        }
        let key = match cert.effective_key(&issuer_of) {
            Ok(k) => k,
            Err(e) => {
                failures.push(CandidateFailure {
                    index: i,
                    code: crypto_to_code(&e),
                    reason: format!("the key of signer {} is unusable: {e}", cert.describe()),
                });
                continue;
            }
        };
        match scheme.verify(&key, &message, si.signature, ctx.legacy_allowed(), ctx.min_rsa_bits()) {
            Ok(()) => verified.push((i, Arc::clone(cert))),
            Err(e) => failures.push(CandidateFailure {
                index: i,
                code: crypto_to_code(&e),
                reason: format!("signature by {} does not verify: {e}", cert.describe()),
            }),
        }
    }
    if verified.is_empty() {
        // The gravest failure decides, and its certificate is the one reported; equal ranks
        // are ordered by code, reason and fingerprint, so neither depends on bag order.
        let worst = failures.iter().max_by(|a, b| {
            (
                a.code.rank(),
                a.code.number(),
                &a.reason,
                &candidates[a.index].fingerprint,
            )
                .cmp(&(
                    b.code.rank(),
                    b.code.number(),
                    &b.reason,
                    &candidates[b.index].fingerprint,
                ))
        });
        so.certificate = worst.map_or_else(
            || candidates.first().cloned(),
            |f| Some(Arc::clone(&candidates[f.index])),
        );
        let code = worst.map_or(Code::SignatureInvalid, |f| f.code);
        if candidates.len() == 1 {
            let reason = worst.map(|f| f.reason.clone()).unwrap_or_default();
            fail!(code, "{reason}");
        }
        let each: Vec<String> = failures
            .iter()
            .enumerate()
            .map(|(i, f)| format!("#{}: {}", i + 1, f.reason))
            .collect();
        fail!(
            code,
            "the signer identifier ({}) is ambiguous: it matches {} certificates and none verified the signature ({})",
            sid_text(&si.sid),
            candidates.len(),
            each.join("; ")
        );
    }
    so.certificate = verified.first().map(|(_, c)| Arc::clone(c));
    so.signature_verified = true;
    // The time this signer is judged at (DESIGN "Time and revocation"; ETSI EN 319 102-1
    // best signature time). It depends on the SignerInfo, not on which certificate verified.
    let content = match target {
        Target::Content { .. } => Some(data),
        Target::Countersigned => None,
    };
    if let Err((code, reason)) = choose_signature_time(ctx, si, content, &mut so) {
        fail!(code, "{reason}");
    }
    let judged = Judged {
        ctx,
        si,
        scheme: &scheme,
        message: &message,
        doc_certs,
        doc_crls,
    };
    let ambiguous = |i: usize, cert: &CertRef| {
        Warning::new(
            WarningCode::SignerIdentifierAmbiguous,
            format!(
                "the signer identifier ({}) matches {} certificates; certificate #{} of them, {}, \
                 verified the signature",
                sid_text(&si.sid),
                candidates.len(),
                i + 1,
                cert.describe()
            ),
        )
    };
    if let [(i, cert)] = verified.as_slice() {
        if candidates.len() > 1 {
            so.warnings.push(ambiguous(*i, cert));
        }
        judged.judge(&mut so, cert);
        return so;
    }
    // Several certificates verify the signature: each is judged, and the verdict is a
    // function of the set, not of the order of the unsigned bag.
    let outcomes: Vec<SignerOutcome> = verified
        .iter()
        .map(|(i, cert)| {
            let mut o = so.clone();
            o.warnings.push(ambiguous(*i, cert));
            judged.judge(&mut o, cert);
            o
        })
        .collect();
    choose_verdict(outcomes)
}

/// The verdict on a signer when several certificates for its key verified the signature,
/// from each one's judgement. Independent of their order:
/// - a certificate of that key revoked for keyCompromise at the signature time condemns the
///   key, so no other certificate of it makes the signature trusted (RFC 5280 §5.3.1);
/// - otherwise the first trusted certificate (in bag order; all are equally trusted) is the
///   signer;
/// - otherwise the gravest failure among the certificates a trusted CA issued, ignoring
///   copies that are not (a broken certificate signature, no path, unparseable): a damaged
///   copy cannot replace the genuine certificate's verdict; and the evidence any of them
///   needs is kept, so that a fetch can still make one trusted.
fn choose_verdict(outcomes: Vec<SignerOutcome>) -> SignerOutcome {
    let n = outcomes.len();
    let not_issued = |o: &SignerOutcome| {
        matches!(
            o.code,
            Code::ChainUntrusted | Code::CertSignatureInvalid | Code::CertMalformed
        )
    };
    let gravest = |pool: Vec<SignerOutcome>| -> Option<SignerOutcome> {
        pool.into_iter().max_by(|a, b| {
            let key = |o: &SignerOutcome| {
                (
                    o.code.rank(),
                    o.code.number(),
                    o.certificate.as_ref().map(|c| c.fingerprint),
                )
            };
            key(a).cmp(&key(b))
        })
    };
    let compromised: Vec<SignerOutcome> = outcomes.iter().filter(|o| key_compromised(o)).cloned().collect();
    if let Some(mut o) = gravest(compromised) {
        o.reason = format!(
            "{} ({n} certificates matching the signer identifier verified the signature; none was \
             trusted: their key was revoked for keyCompromise)",
            o.reason
        );
        return o;
    }
    let mut outcomes = outcomes;
    if let Some(at) = outcomes
        .iter()
        .position(|o| matches!(o.code, Code::Ok | Code::IntegrityOnly))
    {
        return outcomes.swap_remove(at);
    }
    // Evidence any candidate lacks (a CRL, an issuer to fetch by caIssuers) may make it
    // trusted once fetched, whichever failure is reported now.
    let needs: std::collections::BTreeSet<_> = outcomes.iter().flat_map(|o| o.needs.iter().cloned()).collect();
    let pool: Vec<SignerOutcome> = if outcomes.iter().all(&not_issued) {
        outcomes
    } else {
        outcomes.into_iter().filter(|o| !not_issued(o)).collect()
    };
    let Some(mut o) = gravest(pool) else {
        // Unreachable (two or more outcomes, none trusted); never a silent "valid".
        let mut o = SignerOutcome::empty(SignerIdentity::SubjectKeyId(Vec::new()));
        o.code = Code::InternalError;
        o.reason = "no candidate signer certificate was left to judge".to_owned();
        return o;
    };
    o.needs = needs.into_iter().collect();
    o.reason = format!(
        "{} ({n} certificates matching the signer identifier verified the signature; none was trusted)",
        o.reason
    );
    o
}

/// Whether `o` is a revocation of its own certificate for keyCompromise (RFC 5280 §5.3.1):
/// the key itself is no longer the subject's.
fn key_compromised(o: &SignerOutcome) -> bool {
    let Some(cert) = &o.certificate else {
        return false;
    };
    o.code == Code::CertRevoked
        && o.decided_by.0.as_ref().is_some_and(|d| {
            d.1.iter().any(|e| {
                e.certificate.fingerprint == cert.fingerprint
                    && e.revoked_reason == Some(crate::revocation::crl::Reason::KeyCompromise)
            })
        })
}

/// What judging one certificate that verified a SignerInfo's signature needs.
struct Judged<'a, 'b> {
    ctx: &'a dyn TrustContext,
    si: &'a ParsedSigner<'b>,
    scheme: &'a SignatureScheme,
    message: &'a [u8],
    doc_certs: &'a [CertRef],
    doc_crls: &'a [Arc<CrlIndex>],
}

impl Judged<'_, '_> {
    /// Validates `cert`'s path at the signature time already chosen in `so` and records
    /// the verdict, the path, its evidence and the warnings they bring.
    fn judge(&self, so: &mut SignerOutcome, cert: &CertRef) {
        let Judged {
            ctx,
            si,
            scheme,
            message,
            doc_certs,
            doc_crls,
        } = *self;
        so.certificate = Some(Arc::clone(cert));
        let t = so.signature_time.unwrap_or_else(|| ctx.at());
        match ctx.validate_signer(cert, doc_certs, doc_crls, t) {
            None => {
                so.code = Code::IntegrityOnly;
                so.reason = format!(
                    "signature by {} is intact; no trust store was given, so the signer is not trusted",
                    cert.describe()
                );
            }
            Some(Ok(path)) => {
                so.chain = path.chain();
                so.revocation = path.revocation.clone();
                if let Some(e) = so.revocation.iter().find(|e| e.revoked_at.is_some()) {
                    let when = e.revoked_at.map(crate::time::to_rfc3339).unwrap_or_default();
                    so.warnings.push(Warning::new(
                        WarningCode::RevokedAfterSignature,
                        format!(
                            "{} was revoked on {when}, after the signature time",
                            e.certificate.describe()
                        ),
                    ));
                }
                let mut legacy = LegacyAdmitted::default();
                legacy.chain(&so.chain, &so.revocation);
                legacy.timestamps(&so.timestamps);
                so.warnings.extend(legacy.warnings());
                so.needs = path.revocation.iter().flat_map(|e| e.needs.iter().cloned()).collect();
                // DSA parameters inherited by name lookup above must be those of the validated
                // path (RFC 5280 §6.1.4 (k)); otherwise a same-named certificate slipped into
                // the CMS could supply parameters of its choosing.
                // (Only a DSA key can lack its parameters: an RSA or EC key parsed at intern time
                // skips re-reading the SPKI, as `effective_key` does.)
                let parsed_non_dsa = matches!(&cert.public_key, Ok(k) if k.key_type() != crate::crypto::KeyType::Dsa);
                if !parsed_non_dsa && crate::crypto::PublicKey::needs_inherited_dsa_params(&cert.spki) {
                    let on_path = |c: &crate::x509::Certificate| -> Option<CertRef> {
                        let pos = so.chain.iter().position(|x| x.fingerprint == c.fingerprint)?;
                        so.chain.get(pos + 1).cloned()
                    };
                    let path_key = cert.effective_key(&on_path);
                    let ok = path_key
                        .map(|k| {
                            scheme
                                .verify(&k, message, si.signature, ctx.legacy_allowed(), ctx.min_rsa_bits())
                                .is_ok()
                        })
                        .unwrap_or(false);
                    if !ok {
                        so.code = Code::SignatureInvalid;
                        so.reason = format!(
                            "signature by {} does not verify with DSA parameters inherited along its path",
                            cert.describe()
                        );
                        so.signature_verified = false;
                    }
                }
            }
            Some(Err(e)) => {
                so.code = e.code;
                so.reason = e.reason;
                so.needs = e.needs;
                so.decided_by = e.decided_by;
                // A revocation verdict rests on its path and evidence as an ok one does.
                if let Some(d) = &so.decided_by.0 {
                    let mut legacy = LegacyAdmitted::default();
                    legacy.chain(&d.0, &d.1);
                    legacy.timestamps(&so.timestamps);
                    so.warnings.extend(legacy.warnings());
                }
            }
        }
    }
}

/// The signature time-stamp tokens (id-aa-signatureTimeStampToken, RFC 3161 Appendix A) in
/// a SignerInfo's unsignedAttrs, in the order they appear (every value of every such
/// attribute). Unreadable unsigned attributes give no tokens: they are not signed, so they
/// cannot make a signature fail, and with no token they cannot move its time either.
pub fn signature_timestamp_tokens(unsigned_attrs: Option<&[u8]>) -> Vec<&[u8]> {
    attribute_values(unsigned_attrs, &govsig_asn1::tsp::oid::SIGNATURE_TIME_STAMP_TOKEN)
}

/// Every value (a whole TLV) of every attribute of type `attr_type` in the content octets of
/// a SET OF Attribute, in order; nothing when the attributes do not parse.
pub fn attribute_values<'a>(attrs: Option<&'a [u8]>, attr_type: &asn1::ObjectIdentifier) -> Vec<&'a [u8]> {
    let Some(raw) = attrs else {
        return Vec::new();
    };
    let Ok(tlvs) = govsig_asn1::common::split_tlvs(raw) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in &tlvs {
        if let Ok(a) = t.parse::<asn::Attribute<'a>>() {
            if a.attr_type == *attr_type {
                out.extend(a.attr_values.elements().iter().map(|v| v.full_data()));
            }
        }
    }
    out
}

/// The interval, in microseconds since the epoch, within which a valid token's true time
/// lies: genTime ± accuracy (RFC 3161 §2.4.2; no accuracy counts as exact).
fn gen_time_bounds(t: &TimestampOutcome) -> Option<(i128, i128)> {
    let g = t.gen_time?;
    let mid = i128::from(g.seconds) * 1_000_000 + i128::from(g.nanos / 1000);
    let acc = t.accuracy.map_or(0, |a| i128::from(a.total_micros()));
    Some((mid - acc, mid + acc))
}

/// Sets `so.signature_time`, its source, the judged tokens and the signingTime warnings.
/// `Err` is the signer's failure when the policy requires a valid time-stamp and none is,
/// or when the valid time-stamps contradict each other.
///
/// A token moves T only when it is valid on its own (`tsp::verify_token`: its CMS, ESS
/// binding, the critical sole timeStamping EKU, its TSA's chain under `tsa_trust`, the
/// imprint over *this* SignerInfo's signature value, genTime not after `at`). A forged or
/// swapped token is reported among `timestamps` with its code and never chosen. Among
/// valid tokens the earliest genTime wins, whatever their order in the attribute: the
/// verdict is a function of the set of tokens.
///
/// Content time-stamps (id-aa-ets-contentTimestamp, signed attributes; `content` is what
/// they stamp, `None` for a countersignature) are judged with the same TSA checks and
/// reported with kind "content", but never move T: a content time-stamp proves the content
/// existed at its genTime, which bounds the signing time from below, not from above. Their
/// one effect is the order check of ETSI EN 319 102-1 (the time-stamp coherence order:
/// content time-stamps before signature time-stamps; INDETERMINATE / TIMESTAMP_ORDER_FAILURE
/// there): a valid signature time-stamp whose genTime + accuracy is before a valid content
/// time-stamp's genTime - accuracy cannot be true together with it, and the signer fails
/// with `timestamp_order_failure`. Intervals that overlap within the accuracies are
/// consistent (two TSAs' clocks may differ by that much). A signingTime before a content
/// time-stamp gets the warning `signing_time_before_content_timestamp`.
fn choose_signature_time(
    ctx: &dyn TrustContext,
    si: &ParsedSigner<'_>,
    content: Option<&[&[u8]]>,
    so: &mut SignerOutcome,
) -> Result<(), (Code, String)> {
    let tp = ctx.time_policy();
    let at = ctx.at();
    so.signature_time = Some(at);
    so.signature_time_source = TimeSource::At;
    if tp.mode == SignatureTime::At && !tp.require_timestamp {
        return Ok(());
    }
    let tokens = signature_timestamp_tokens(si.unsigned_attrs);
    let content_tokens = match content {
        Some(_) => attribute_values(si.signed_attrs, &govsig_asn1::tsp::oid::CONTENT_TIME_STAMP),
        None => Vec::new(),
    };
    // Sized exactly, as the signers of a document are (see `verify_parsed`).
    so.timestamps
        .reserve_exact(tokens.len().min(MAX_SIGNATURE_TIMESTAMPS) + content_tokens.len().min(MAX_SIGNATURE_TIMESTAMPS));
    for token in tokens.iter().take(MAX_SIGNATURE_TIMESTAMPS) {
        so.timestamps.push(ctx.verify_signature_timestamp(token, si.signature));
    }
    let n_signature = so.timestamps.len();
    if let Some(content) = content {
        for token in content_tokens.iter().take(MAX_SIGNATURE_TIMESTAMPS) {
            so.timestamps.push(ctx.verify_content_timestamp(token, content));
        }
    }
    let (signature_ts, content_ts) = so.timestamps.split_at(n_signature);
    // The order check: every valid content time-stamp before every valid signature one.
    for c in content_ts.iter().filter(|t| t.ok()) {
        let Some((c_low, _)) = gen_time_bounds(c) else { continue };
        for s in signature_ts.iter().filter(|t| t.ok()) {
            let Some((_, s_high)) = gen_time_bounds(s) else {
                continue;
            };
            if s_high < c_low {
                let when = |t: &TimestampOutcome| t.gen_time.map(|g| g.to_rfc3339()).unwrap_or_default();
                return Err((
                    Code::TimestampOrderFailure,
                    format!(
                        "the signature time-stamp of {} is earlier than the content time-stamp of {}: the \
                         content cannot have been signed before it existed (ETSI EN 319 102-1 time-stamp order)",
                        when(s),
                        when(c)
                    ),
                ));
            }
        }
        if let Some(st) = so.signing_time {
            // signingTime has whole seconds: it stands for [st, st + 1 s).
            if (i128::from(st) + 1) * 1_000_000 <= c_low
                && !so
                    .warnings
                    .iter()
                    .any(|w| w.code == WarningCode::SigningTimeBeforeContentTimestamp)
            {
                so.warnings.push(Warning::new(
                    WarningCode::SigningTimeBeforeContentTimestamp,
                    format!(
                        "signingTime {} is before the content time-stamp of {}",
                        crate::time::to_rfc3339(st),
                        c.gen_time.map(|g| g.to_rfc3339()).unwrap_or_default()
                    ),
                ));
            }
        }
    }
    let best = signature_ts
        .iter()
        .filter(|t| t.ok())
        .filter_map(|t| t.gen_time.map(|g| g.seconds))
        .min();
    match best {
        Some(g) if tp.mode != SignatureTime::At => {
            // A genTime within the TSA clock skew past `at` is judged at `at`: T is never
            // later than the validation time.
            so.signature_time = Some(g.min(at));
            so.signature_time_source = TimeSource::Timestamp;
            if let Some(st) = so.signing_time {
                if st.abs_diff(g) > tp.signing_time_tolerance.unsigned_abs() {
                    so.warnings.push(Warning::new(
                        WarningCode::SigningTimeMismatch,
                        format!(
                            "signingTime {} differs from the time-stamped time {} by more than {} s",
                            crate::time::to_rfc3339(st),
                            crate::time::to_rfc3339(g),
                            tp.signing_time_tolerance
                        ),
                    ));
                }
            }
        }
        Some(_) => {}
        None => {
            if tp.require_timestamp {
                // The most specific failure; ties by reason, so that the report is the same
                // for every order of the tokens.
                let worst = signature_ts
                    .iter()
                    .max_by(|a, b| (a.code.rank(), &a.reason).cmp(&(b.code.rank(), &b.reason)));
                return Err(match worst {
                    None => (
                        Code::TimestampMissing,
                        "the policy requires a signature time-stamp (RFC 3161 Appendix A) and the signer has none"
                            .to_string(),
                    ),
                    Some(t) => (
                        t.code,
                        format!(
                            "the policy requires a valid signature time-stamp and none of the signer's {} is: {}",
                            signature_ts.len(),
                            t.reason
                        ),
                    ),
                });
            }
            if tp.mode == SignatureTime::Claimed {
                // Self-asserted: used only when not after `at`, and reported as claimed.
                if let Some(st) = so.signing_time.filter(|st| *st <= at) {
                    so.signature_time = Some(st);
                    so.signature_time_source = TimeSource::Claimed;
                }
            }
        }
    }
    Ok(())
}

/// Whether `whole` is the concatenation of `parts`, compared without joining them.
fn parts_equal(whole: &[u8], parts: &[&[u8]]) -> bool {
    let mut rest = whole;
    for p in parts {
        match rest.split_at_checked(p.len()) {
            Some((head, tail)) if head == *p => rest = tail,
            _ => return false,
        }
    }
    rest.is_empty()
}

/// The DER of id-data (1.2.840.113549.1.7.1), OBJECT IDENTIFIER tag included.
const ID_DATA_DER: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];

#[cfg(test)]
mod tests {
    #[test]
    fn absent_and_null_parameters_name_the_same_algorithm() {
        // sha256 (2.16.840.1.101.3.4.2.1) without and with NULL; sha384 differs.
        let sha256 = [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
        let with_null = [&sha256[..], &[0x05, 0x00]].concat();
        let mut sha384 = sha256;
        sha384[10] = 0x02;
        assert!(super::same_algorithm(&sha256, &with_null));
        assert!(super::same_algorithm(&with_null, &with_null));
        assert!(!super::same_algorithm(&sha256, &sha384));
        assert!(!super::same_algorithm(
            &with_null,
            &[&sha256[..], &[0x04, 0x00]].concat()
        ));
    }

    use super::*;

    #[test]
    fn id_data_der_is_the_encoding_of_the_oid() {
        assert_eq!(asn1::write_single(&oid::DATA).expect("encodes"), ID_DATA_DER);
    }
}

/// Where what decided a signer rests on a legacy algorithm (SHA-1, DSA) that the policy
/// admitted (`legacy` or `legacy_certificates`): the signatures of the certificates of a path
/// (not the anchor's own, which nothing verifies), of the CRLs and OCSP responses that
/// decided a status, and the same in every path nested in those (a separate CRL signer's, a
/// delegated OCSP responder's) and in the paths of the signer's valid time-stamps' TSAs.
/// One warning per place (certificate, CRL, OCSP), naming the first such item met.
#[derive(Default)]
pub(crate) struct LegacyAdmitted {
    certificate: Option<String>,
    crl: Option<String>,
    ocsp: Option<String>,
    /// A valid time-stamp token's own signature (the document signature says its own).
    token_signature: Option<String>,
}

impl LegacyAdmitted {
    fn legacy(alg: &[u8]) -> Option<&'static str> {
        SignatureScheme::from_algorithm_identifier(alg)
            .ok()
            .filter(|s| s.is_legacy())
            .map(|s| s.name())
    }

    /// A path given as its chain (leaf first, the anchor last) and the revocation evidence
    /// of its certificates.
    pub(crate) fn chain(&mut self, chain: &[CertRef], revocation: &[RevocationEvidence]) {
        let anchor = chain.last().map(|c| c.fingerprint);
        if self.certificate.is_none() {
            self.certificate = chain.iter().filter(|c| Some(c.fingerprint) != anchor).find_map(|c| {
                Self::legacy(&c.signature_algorithm)
                    .map(|name| format!("{} is signed with {name}, a legacy algorithm", c.describe()))
            });
        }
        for e in revocation {
            if self.crl.is_none() {
                self.crl = e.crl.iter().chain(e.delta.iter()).find_map(|c| {
                    Self::legacy(&c.signature_algorithm)
                        .map(|name| format!("{} is signed with {name}, a legacy algorithm", c.describe()))
                });
            }
            if let Some(p) = &e.crl_signer_path {
                self.chain(&p.chain(), &p.revocation);
            }
            if let Some(o) = &e.ocsp {
                if self.ocsp.is_none() {
                    self.ocsp = Self::legacy(&o.signature_algorithm).map(|name| {
                        format!(
                            "the OCSP response signed by {} is signed with {name}, a legacy algorithm",
                            o.responder.describe()
                        )
                    });
                }
                if let Some(p) = &o.responder_path {
                    self.chain(&p.chain(), &p.revocation);
                }
            }
        }
    }

    /// The paths of the valid time-stamps (those that can have decided anything).
    pub(crate) fn timestamps(&mut self, timestamps: &[TimestampOutcome]) {
        for t in timestamps.iter().filter(|t| t.ok()) {
            self.chain(&t.chain, &t.revocation);
            if self.token_signature.is_none() {
                self.token_signature = t.legacy_signature.clone();
            }
        }
    }

    pub(crate) fn warnings(self) -> Vec<Warning> {
        [
            (WarningCode::LegacyAlgorithmCertificate, self.certificate),
            (WarningCode::LegacyAlgorithmCrl, self.crl),
            (WarningCode::LegacyAlgorithmOcsp, self.ocsp),
            (WarningCode::LegacyAlgorithmSignature, self.token_signature),
        ]
        .into_iter()
        .filter_map(|(code, detail)| detail.map(|d| Warning::new(code, d)))
        .collect()
    }
}
