//! The trust decision for one document (DESIGN "The trust decision", steps 1-7).

use std::sync::Arc;

use govsig_asn1::cms::{self as asn, oid};

use crate::cms::signed_data::{self, ParsedSigner, SignerIdentity};
use crate::crypto::{CryptoError, DigestAlgorithm, SignatureScheme};
use crate::outcome::Code;
use crate::revocation::crl::CrlIndex;
use crate::revocation::{EvidenceNeed, RevocationEvidence};
use crate::time::{self, UnixTime};
use crate::x509::cert::CertRef;
use crate::x509::path::{PathError, ValidPath};

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
}

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
}

impl SignerOutcome {
    /// The signer identifier as text, for reports (formatted on demand: bulk runs never pay
    /// for it).
    pub fn sid_text(&self) -> String {
        sid_text(&self.sid)
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
        }
    }

    pub fn ok(&self) -> bool {
        self.code == Code::Ok
    }

    /// Evidence that could decide an unknown revocation status, across signers, deduplicated.
    pub fn needs(&self) -> Vec<EvidenceNeed> {
        let mut v: Vec<EvidenceNeed> = self.signers.iter().flat_map(|s| s.needs.iter().cloned()).collect();
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
    /// Validate a path for the signer, using the document's certificates as untrusted
    /// intermediates and its CRLs as revocation evidence. `None` when no trust store is
    /// configured (integrity only).
    fn validate_signer(
        &self,
        signer: &CertRef,
        document_certs: &[CertRef],
        document_crls: &[Arc<CrlIndex>],
    ) -> Option<Result<Arc<ValidPath>, PathError>>;
    fn legacy_allowed(&self) -> bool;
    fn min_rsa_bits(&self) -> usize;
}

fn crypto_to_code(e: &CryptoError) -> Code {
    Code::for_crypto_error(e, Code::SignatureInvalid)
}

/// Verifies one CMS document. Never panics on input; every failure is a result.
pub fn verify_document(ctx: &dyn TrustContext, signature: &[u8], content: Option<&[u8]>) -> VerifyOutcome {
    match content {
        Some(c) => verify_document_parts(ctx, signature, Some(&[c])),
        None => verify_document_parts(ctx, signature, None),
    }
}

/// Verifies one CMS document whose detached content is the concatenation of `parts`,
/// hashed part by part: a signed PDF's content is two ranges of the file around the
/// signature, and copying the file to join them would double the memory of a bulk run.
pub fn verify_document_parts(ctx: &dyn TrustContext, signature: &[u8], content: Option<&[&[u8]]>) -> VerifyOutcome {
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
    let mut out = VerifyOutcome {
        code: Code::Ok,
        reason: String::new(),
        signers: Vec::new(),
        was_ber: decoded.was_ber,
        detached: sd.econtent.is_none(),
        content_type: Some(sd.econtent_type.clone()),
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
    let mut digests: Vec<(DigestAlgorithm, Vec<u8>)> = Vec::new();
    for si in &sd.signers {
        let so = verify_signer(ctx, &sd, si, data, &doc_certs, &doc_crls, &cert_errors, &mut digests);
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

fn sid_text(sid: &SignerIdentity) -> String {
    match sid {
        SignerIdentity::IssuerSerial { issuer_der, serial } => {
            let issuer = crate::x509::Name::from_der(issuer_der)
                .map(|n| n.to_string())
                .unwrap_or_else(|_| "<unreadable name>".into());
            format!("issuer '{}', serial {}", issuer, hex::encode(serial))
        }
        SignerIdentity::SubjectKeyId(k) => format!("subjectKeyIdentifier {}", hex::encode(k)),
    }
}

fn find_signer(sid: &SignerIdentity, doc_certs: &[CertRef], extra: &[CertRef]) -> Option<CertRef> {
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
    doc_certs
        .iter()
        .find(|c| matches(c))
        .or_else(|| extra.iter().find(|c| matches(c)))
        .cloned()
}

struct Attrs {
    content_type: Option<Vec<u8>>,
    message_digest: Option<Vec<u8>>,
    signing_time: Option<UnixTime>,
    /// (hash algorithm, certHash, issuerSerial serial) of the first ESSCertID(v2).
    signing_cert: Option<(DigestAlgorithm, Vec<u8>, Option<Vec<u8>>)>,
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
    .map_err(|e: asn1::ParseError| bad(format!("signed attributes are malformed: {e}")))?;
    let mut out = Attrs {
        content_type: None,
        message_digest: None,
        signing_time: None,
        signing_cert: None,
    };
    let mut seen: Vec<asn1::ObjectIdentifier> = Vec::new();
    for a in &attrs {
        // RFC 5652 §5.3: an attribute type appears at most once in signedAttrs.
        if seen.contains(&a.attr_type) {
            return Err(bad(format!(
                "signed attribute {} appears more than once (RFC 5652 §5.3)",
                a.attr_type
            )));
        }
        seen.push(a.attr_type.clone());
        let values = a.attr_values.elements();
        let single = || -> Result<asn1::Tlv<'_>, (Code, String)> {
            match values.as_slice() {
                [v] => Ok(*v),
                _ => Err(bad(format!(
                    "signed attribute {} must have exactly one value (RFC 5652 §11)",
                    a.attr_type
                ))),
            }
        };
        if a.attr_type == oid::CONTENT_TYPE {
            let v = single()?;
            v.parse::<asn1::ObjectIdentifier>()
                .map_err(|e| bad(format!("contentType attribute: {e}")))?;
            out.content_type = Some(v.full_data().to_vec());
        } else if a.attr_type == oid::MESSAGE_DIGEST {
            let v = single()?;
            let d = v
                .parse::<&[u8]>()
                .map_err(|e| bad(format!("messageDigest attribute: {e}")))?;
            out.message_digest = Some(d.to_vec());
        } else if a.attr_type == oid::SIGNING_TIME {
            let v = single()?;
            let t = v
                .parse::<govsig_asn1::common::Time>()
                .map_err(|e| bad(format!("signingTime attribute: {e}")))?;
            out.signing_time = Some(time::from_time(&t));
        } else if a.attr_type == oid::SIGNING_CERTIFICATE_V2 {
            let v = single()?;
            let sc = v
                .parse::<asn::SigningCertificateV2<'_>>()
                .map_err(|e| bad(format!("signing-certificate-v2 attribute: {e}")))?;
            if let Some(first) = sc.certs.clone().next() {
                // RFC 5035 §4: hashAlgorithm DEFAULT id-sha256.
                let alg = match &first.hash_algorithm {
                    None => DigestAlgorithm::Sha256,
                    Some(ai) => {
                        let der =
                            asn1::write_single(ai).map_err(|e| bad(format!("ESSCertIDv2 hashAlgorithm: {e:?}")))?;
                        DigestAlgorithm::from_algorithm_identifier(&der)
                            .map_err(|e| (Code::UnsupportedAlgorithm, format!("ESSCertIDv2 hashAlgorithm: {e}")))?
                    }
                };
                let serial = first.issuer_serial.as_ref().map(|is| is.serial.as_bytes().to_vec());
                out.signing_cert = Some((alg, first.cert_hash.to_vec(), serial));
            }
        } else if a.attr_type == oid::SIGNING_CERTIFICATE {
            let v = single()?;
            let sc = v
                .parse::<asn::SigningCertificateV1<'_>>()
                .map_err(|e| bad(format!("signing-certificate attribute: {e}")))?;
            if let Some(first) = sc.certs.clone().next() {
                if out.signing_cert.is_none() {
                    let serial = first.issuer_serial.as_ref().map(|is| is.serial.as_bytes().to_vec());
                    out.signing_cert = Some((DigestAlgorithm::Sha1, first.cert_hash.to_vec(), serial));
                }
            }
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn verify_signer(
    ctx: &dyn TrustContext,
    sd: &signed_data::ParsedSignedData<'_>,
    si: &ParsedSigner<'_>,
    data: &[&[u8]],
    doc_certs: &[CertRef],
    doc_crls: &[Arc<CrlIndex>],
    cert_errors: &[String],
    digests: &mut Vec<(DigestAlgorithm, Vec<u8>)>,
) -> SignerOutcome {
    let mut so = SignerOutcome {
        code: Code::Ok,
        reason: String::new(),
        certificate: None,
        chain: Vec::new(),
        signing_time: None,
        digest_algorithm: None,
        signature_algorithm: None,
        sid: si.sid.clone(),
        signature_verified: false,
        revocation: Vec::new(),
        needs: Vec::new(),
    };
    macro_rules! fail {
        ($code:expr, $($arg:tt)*) => {{
            so.code = $code;
            so.reason = format!($($arg)*);
            return so;
        }};
    }
    let digest = match DigestAlgorithm::from_algorithm_identifier(si.digest_algorithm) {
        Ok(d) => d,
        Err(e) => fail!(crypto_to_code(&e), "digestAlgorithm: {e}"),
    };
    so.digest_algorithm = Some(digest.name());
    let scheme = match SignatureScheme::for_cms(si.signature_algorithm, digest) {
        Ok(s) => s,
        Err(e) => fail!(crypto_to_code(&e), "signatureAlgorithm: {e}"),
    };
    so.signature_algorithm = Some(scheme.name());
    if (digest.is_legacy() || scheme.is_legacy()) && !ctx.legacy_allowed() {
        fail!(
            Code::AlgorithmNotAllowed,
            "{} with {} is a legacy algorithm and the policy does not allow legacy",
            scheme.name(),
            digest.name()
        );
    }
    let extra = ctx.extra_signer_candidates();
    let cert = match find_signer(&si.sid, doc_certs, extra) {
        Some(c) => c,
        None => {
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
    };
    so.certificate = Some(Arc::clone(&cert));
    let issuer_of = |c: &crate::x509::Certificate| -> Option<CertRef> {
        doc_certs
            .iter()
            .chain(extra.iter())
            .find(|i| i.subject.matches(&c.issuer) && i.fingerprint != c.fingerprint)
            .cloned()
    };
    let key = match cert.effective_key(&issuer_of) {
        Ok(k) => k,
        Err(e) => fail!(
            crypto_to_code(&e),
            "the key of signer {} is unusable: {e}",
            cert.describe()
        ),
    };
    let key = &key;
    let message: std::borrow::Cow<'_, [u8]> = match si.signed_attrs {
        Some(raw) => {
            let attrs = match parse_attrs(raw) {
                Ok(a) => a,
                Err((code, reason)) => fail!(code, "{reason}"),
            };
            so.signing_time = attrs.signing_time;
            // RFC 5652 §5.3/§11.1: contentType must be present and equal eContentType.
            match &attrs.content_type {
                None => fail!(
                    Code::SignedAttributesInvalid,
                    "signed attributes lack contentType (RFC 5652 §5.3)"
                ),
                Some(ct) if ct.as_slice() != sd.econtent_type_der.as_slice() => {
                    fail!(
                        Code::ContentTypeMismatch,
                        "contentType attribute differs from eContentType {}",
                        sd.econtent_type
                    )
                }
                Some(_) => {}
            }
            let md = match &attrs.message_digest {
                None => fail!(
                    Code::SignedAttributesInvalid,
                    "signed attributes lack messageDigest (RFC 5652 §5.3)"
                ),
                Some(md) => md,
            };
            let computed = match digests.iter().find(|(a, _)| *a == digest) {
                Some((_, d)) => d.clone(),
                None => {
                    let mut h = digest.hasher();
                    for part in data {
                        h.update(part);
                    }
                    let d = h.finish();
                    digests.push((digest, d.clone()));
                    d
                }
            };
            if computed.as_slice() != md.as_slice() {
                fail!(
                    Code::DigestMismatch,
                    "the content's {} digest does not match the messageDigest attribute",
                    digest.name()
                );
            }
            // RFC 5035 §5.4: the certificate named by signing-certificate(-v2) must be the
            // one used to verify; it stops certificate substitution.
            if let Some((alg, hash, serial)) = &attrs.signing_cert {
                // A SHA-1 ESS hash (RFC 2634 v1 attribute) only identifies the certificate
                // inside content that the signature already protects, so the legacy gate
                // does not apply to it.
                if cert.hash_with(*alg).as_slice() != hash.as_slice() {
                    fail!(
                        Code::SigningCertificateMismatch,
                        "the signing-certificate attribute names a certificate other than {}",
                        cert.describe()
                    );
                }
                if let Some(s) = serial {
                    if s.as_slice() != cert.serial.as_slice() {
                        fail!(
                            Code::SigningCertificateMismatch,
                            "the signing-certificate attribute's serial differs from {}",
                            cert.describe()
                        );
                    }
                }
            }
            // RFC 5652 §5.4: the signature covers the DER SET OF, i.e. the attributes with
            // the SET tag instead of the IMPLICIT [0].
            let mut m = Vec::with_capacity(raw.len() + 6);
            m.push(0x31);
            push_der_length(&mut m, raw.len());
            m.extend_from_slice(raw);
            std::borrow::Cow::Owned(m)
        }
        None => {
            // RFC 5652 §5.3: signedAttrs MUST be present when eContentType is not id-data.
            if sd.econtent_type_der != ID_DATA_DER {
                fail!(
                    Code::SignedAttributesInvalid,
                    "eContentType is {} but there are no signed attributes (RFC 5652 §5.3)",
                    sd.econtent_type
                );
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
    if let Err(e) = scheme.verify(key, &message, si.signature, ctx.legacy_allowed(), ctx.min_rsa_bits()) {
        fail!(
            crypto_to_code(&e),
            "signature by {} does not verify: {e}",
            cert.describe()
        );
    }
    so.signature_verified = true;
    match ctx.validate_signer(&cert, doc_certs, doc_crls) {
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
            so.needs = path.revocation.iter().flat_map(|e| e.needs.iter().cloned()).collect();
            // DSA parameters inherited by name lookup above must be those of the validated
            // path (RFC 5280 §6.1.4 (k)); otherwise a same-named certificate slipped into
            // the CMS could supply parameters of its choosing.
            if crate::crypto::PublicKey::needs_inherited_dsa_params(&cert.spki) {
                let on_path = |c: &crate::x509::Certificate| -> Option<CertRef> {
                    let pos = so.chain.iter().position(|x| x.fingerprint == c.fingerprint)?;
                    so.chain.get(pos + 1).cloned()
                };
                let path_key = cert.effective_key(&on_path);
                let ok = path_key
                    .map(|k| {
                        scheme
                            .verify(&k, &message, si.signature, ctx.legacy_allowed(), ctx.min_rsa_bits())
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
        }
    }
    so
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

fn push_der_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let n = bytes.len() - skip;
        out.push(0x80 | n as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_data_der_is_the_encoding_of_the_oid() {
        assert_eq!(asn1::write_single(&oid::DATA).expect("encodes"), ID_DATA_DER);
    }
}
