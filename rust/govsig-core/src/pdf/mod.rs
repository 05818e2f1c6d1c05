//! Signed PDFs (ISO 32000-1 §12.8, ETSI EN 319 142-1 PAdES): every signature of every
//! revision, judged as a detached CMS over the bytes its /ByteRange names, and then judged
//! against what later revisions changed.
//!
//! The steps, per file:
//! 1. [`revisions::read_last`] and [`revisions::LastRead::revisions`]: each revision as the
//!    prefix ending at its `%%EOF`, opened by [`lazy::Doc`] (its cross-reference chain:
//!    tables, streams, hybrid files; then single objects, object streams included, parsed
//!    by pdf-rs only when asked for and shared between revisions); a file whose last
//!    revision does not read as written is `pdf_malformed`.
//! 2. [`fields::signature_fields`] in every revision; a signature belongs to the first
//!    revision that holds it (a signature a later revision removed is still judged).
//! 3. The byte range (§12.8.1, ETSI EN 319 142-1 §6.3 a): exactly `[0 a b c]`, the gap
//!    `[a, b)` is exactly `<hex>` of the dictionary's /Contents, `b + c` is the end of the
//!    signature's own revision, the signature dictionary lies in the signed part, and
//!    /Contents holds the CMS followed by zero bytes only. A shifted /ByteRange (signature
//!    wrapping) or a second /Contents fails one of these: `byte_range_invalid`.
//! 4. The CMS over the two ranges, hashed in place (no copy of the file), by the ordinary
//!    verification; document time-stamps by [`crate::tsp::verify_token`]; the DSS of the
//!    last revision (certificates, CRLs, OCSP responses) is evidence for every signature,
//!    and its /VRI entry for a signature (keyed by the SHA-1 of its /Contents) for that one.
//! 5. [`changes::classify`] each later revision; the certifying signature's DocMDP level
//!    bounds what may follow it, and `other` after any signature fails the document.

pub mod changes;
pub mod fields;
pub mod lazy;
pub mod revisions;
pub mod sign;

use std::sync::Arc;

use crate::batch::Engine;
use crate::cms::signed_data::{self, SignerIdentity};
use crate::cms::verify::{
    verify_document_parts, verify_document_parts_digested, SignerOutcome, TrustContext, VerifyOutcome,
};
use crate::crypto::DigestAlgorithm;
use crate::outcome::Code;
use crate::revocation::crl::CrlIndex;
use crate::revocation::{PathError, ValidPath};
use crate::time::UnixTime;
use crate::tsp::{self, Stamped, TimestampOutcome};
use crate::x509::cert::CertRef;

pub use changes::Modification;
pub use revisions::PdfLimits;

/// The verdict on one signature of a PDF.
#[derive(Clone, Debug)]
pub struct PdfSignatureOutcome {
    pub code: Code,
    pub reason: String,
    /// Fully qualified field name.
    pub field: String,
    pub subfilter: Option<String>,
    /// The revision that holds the signature (the original document is 0).
    pub revision: usize,
    pub byte_range: Vec<i64>,
    pub covers_whole_document: bool,
    pub modification: Modification,
    /// The DocMDP level this signature certifies with (1, 2, 3), if it is a certification.
    pub docmdp: Option<u8>,
    pub is_doc_timestamp: bool,
    pub signing_reason: Option<String>,
    pub location: Option<String>,
    /// /Name of the signature dictionary.
    pub name: Option<String>,
    /// /M as written (a PDF date: a claim of the signer's software, not a proof).
    pub claimed_time: Option<String>,
    /// The CMS verdict (for a document time-stamp: its TSA signer as a CMS signer).
    pub cms: Arc<VerifyOutcome>,
    /// The time-stamp verdict, for a document time-stamp.
    pub timestamp: Option<TimestampOutcome>,
}

/// The verdict on one PDF.
#[derive(Clone, Debug)]
pub struct PdfOutcome {
    pub code: Code,
    pub reason: String,
    pub signatures: Vec<PdfSignatureOutcome>,
    pub revisions: usize,
}

impl PdfOutcome {
    pub fn failure(code: Code, reason: impl Into<String>) -> Self {
        PdfOutcome {
            code,
            reason: reason.into(),
            signatures: Vec::new(),
            revisions: 0,
        }
    }

    pub fn ok(&self) -> bool {
        self.code == Code::Ok
    }

    /// Evidence any signature lacked, deduplicated.
    pub fn needs(&self) -> Vec<crate::revocation::EvidenceNeed> {
        let mut v: Vec<_> = self
            .signatures
            .iter()
            .flat_map(|s| {
                s.cms
                    .needs()
                    .into_iter()
                    .chain(s.timestamp.iter().flat_map(|t| t.needs.iter().cloned()))
            })
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// Evidence carried by the PDF itself (the DSS), added to what each CMS carries, for this
/// PDF only: its OCSP answers, like its CRLs, never reach the engine's stores.
struct PdfContext<'a> {
    inner: &'a dyn TrustContext,
    certs: Vec<CertRef>,
    crls: Vec<Arc<CrlIndex>>,
    ocsp: Vec<Arc<crate::revocation::ocsp::OcspResponse>>,
}

impl TrustContext for PdfContext<'_> {
    fn certificate(&self, der: &[u8]) -> Result<CertRef, String> {
        self.inner.certificate(der)
    }
    fn extra_signer_candidates(&self) -> &[CertRef] {
        self.inner.extra_signer_candidates()
    }
    fn crl(&self, der: &[u8]) -> Result<Arc<CrlIndex>, String> {
        self.inner.crl(der)
    }
    fn validate_signer_with_ocsp(
        &self,
        signer: &CertRef,
        document_certs: &[CertRef],
        document_crls: &[Arc<CrlIndex>],
        document_ocsp: &[Arc<crate::revocation::ocsp::OcspResponse>],
        at: crate::time::UnixTime,
    ) -> Option<Result<Arc<ValidPath>, PathError>> {
        if self.certs.is_empty() && self.crls.is_empty() && self.ocsp.is_empty() {
            return self
                .inner
                .validate_signer_with_ocsp(signer, document_certs, document_crls, document_ocsp, at);
        }
        let mut certs = document_certs.to_vec();
        certs.extend(self.certs.iter().cloned());
        let mut crls = document_crls.to_vec();
        crls.extend(self.crls.iter().cloned());
        let mut ocsp = document_ocsp.to_vec();
        ocsp.extend(self.ocsp.iter().cloned());
        self.inner.validate_signer_with_ocsp(signer, &certs, &crls, &ocsp, at)
    }
    fn at(&self) -> crate::time::UnixTime {
        self.inner.at()
    }
    fn time_policy(&self) -> crate::cms::verify::TimePolicy {
        self.inner.time_policy()
    }
    fn verify_signature_timestamp(&self, token: &[u8], signature_value: &[u8]) -> crate::tsp::TimestampOutcome {
        self.inner.verify_signature_timestamp(token, signature_value)
    }
    fn verify_content_timestamp(&self, token: &[u8], content: &[&[u8]]) -> crate::tsp::TimestampOutcome {
        self.inner.verify_content_timestamp(token, content)
    }
    fn legacy_allowed(&self) -> bool {
        self.inner.legacy_allowed()
    }
    fn min_rsa_bits(&self) -> usize {
        self.inner.min_rsa_bits()
    }
}

/// The DSS of a revision (ETSI EN 319 142-1 §5.4.2): certificate, CRL and OCSP streams.
#[derive(Default)]
struct Dss {
    certs: Vec<Vec<u8>>,
    crls: Vec<Vec<u8>>,
    ocsps: Vec<Vec<u8>>,
}

impl Dss {
    fn is_empty(&self) -> bool {
        self.certs.is_empty() && self.crls.is_empty() && self.ocsps.is_empty()
    }
}

fn dss_dict(doc: &dyn fields::Objects) -> Option<&lopdf::Dictionary> {
    fields::catalog(doc)
        .and_then(|c| c.get(b"DSS").ok())
        .and_then(|d| fields::dict(doc, d))
}

/// The streams an array of the DSS (or of a VRI entry) refers to, decoded, at most as many
/// as a CMS may carry CRLs.
fn dss_streams(doc: &dyn fields::Objects, d: &lopdf::Dictionary, key: &[u8], limits: &PdfLimits) -> Vec<Vec<u8>> {
    use lopdf::Object;
    let Some(Object::Array(a)) = fields::get(doc, d, key) else {
        return Vec::new();
    };
    a.iter()
        .take(crate::cms::verify::MAX_DOCUMENT_CRLS)
        .filter_map(|o| match fields::resolve(doc, o)? {
            Object::Stream(s) => {
                if s.dict.has(b"Filter") {
                    s.decompressed_content_with_limit(limits.max_decompressed).ok()
                } else {
                    Some(s.content.clone())
                }
            }
            _ => None,
        })
        .collect()
}

fn read_dss(doc: &dyn fields::Objects, limits: &PdfLimits) -> Dss {
    let Some(dss) = dss_dict(doc) else {
        return Dss::default();
    };
    Dss {
        certs: dss_streams(doc, dss, b"Certs", limits),
        crls: dss_streams(doc, dss, b"CRLs", limits),
        ocsps: dss_streams(doc, dss, b"OCSPs", limits),
    }
}

/// The validation data the DSS keeps for one signature (ETSI EN 319 142-1 §5.4.2.2): the
/// /VRI entry named by the uppercase hex SHA-1 of the signature's /Contents. Writers differ
/// on whether the zero padding is hashed (pyHanko hashes the whole /Contents string, as the
/// ISO 32000-2 wording reads), so the CMS alone is tried as well; both name this signature
/// and no other.
fn read_vri(doc: &dyn fields::Objects, contents: &[u8], cms_len: usize, limits: &PdfLimits) -> Dss {
    let Some(vri) = dss_dict(doc)
        .and_then(|dss| dss.get(b"VRI").ok())
        .and_then(|v| fields::dict(doc, v))
    else {
        return Dss::default();
    };
    let key = |bytes: &[u8]| -> Vec<u8> {
        let d = digest_of(DigestAlgorithm::Sha1, &[bytes]);
        d.iter()
            .flat_map(|b| {
                [
                    b"0123456789ABCDEF"[usize::from(b >> 4)],
                    b"0123456789ABCDEF"[usize::from(b & 0x0f)],
                ]
            })
            .collect()
    };
    let whole = key(contents);
    let entry = vri
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(&whole))
        .or_else(|| {
            let cms = contents.get(..cms_len).filter(|c| c.len() < contents.len())?;
            let only = key(cms);
            vri.iter().find(|(k, _)| k.eq_ignore_ascii_case(&only))
        })
        .and_then(|(_, e)| fields::dict(doc, e));
    let Some(entry) = entry else {
        return Dss::default();
    };
    Dss {
        certs: dss_streams(doc, entry, b"Cert", limits),
        crls: dss_streams(doc, entry, b"CRL", limits),
        ocsps: dss_streams(doc, entry, b"OCSP", limits),
    }
}

/// Length of the DER (or definite-length BER) TLV at the start of `b`, if it is one.
fn tlv_len(b: &[u8]) -> Option<usize> {
    let first = *b.get(1)?;
    if first < 0x80 {
        return Some(2 + usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | usize::from(*b.get(2 + i)?);
    }
    (2 + n).checked_add(len)
}

/// A byte range that passed [`check_byte_range`]: the two signed ranges `[0, a)` and
/// `[b, end)` and the CMS without its padding.
struct Checked<'p> {
    parts: [&'p [u8]; 2],
    cms: Vec<u8>,
    b: usize,
    end: usize,
}

/// Checks the byte range of a signature made in revision `rev` and returns its two ranges
/// and the CMS (the /Contents without its zero padding). `Err` is a `byte_range_invalid`
/// reason.
fn check_byte_range<'p>(
    pdf: &'p [u8],
    f: &fields::SigField,
    revs: &[revisions::Revision],
    rev: usize,
) -> Result<Checked<'p>, String> {
    let br = f
        .byte_range
        .as_deref()
        .ok_or("the signature dictionary cannot be read or has no /ByteRange of integers")?;
    let [0, a, b, c] = *br else {
        return Err(format!("/ByteRange must be [0 a b c], it is {br:?}"));
    };
    let (Ok(a), Ok(b), Ok(c)) = (usize::try_from(a), usize::try_from(b), usize::try_from(c)) else {
        return Err(format!("/ByteRange {br:?} has a negative entry"));
    };
    let end = b.checked_add(c).ok_or("the /ByteRange overflows")?;
    if !(a < b && end <= pdf.len() && c > 0) {
        return Err(format!(
            "/ByteRange {br:?} overlaps itself or leaves the file ({} bytes)",
            pdf.len()
        ));
    }
    let r = &revs[rev];
    if end != r.end && end != r.end_with_eol {
        return Err(format!(
            "the signed bytes end at {end}, not at the end of the signature's revision ({})",
            r.end_with_eol
        ));
    }
    let contents = f.contents.as_deref().ok_or("the signature has no /Contents string")?;
    let cms_len = tlv_len(contents)
        .filter(|&n| n <= contents.len())
        .unwrap_or(contents.len());
    let (cms, padding) = contents.split_at(cms_len);
    let zero_padded = padding.iter().fold(0, |acc, &z| acc | z) == 0;
    // The gap holds exactly `<hex of /Contents>`: nothing else is left unsigned. When the
    // reader decoded /Contents from exactly the digits inside the gap's brackets, the gap
    // spells it by construction; otherwise the gap is decoded and compared.
    let read_from_gap = f.contents_span.as_ref().is_some_and(|s| {
        s.start == a + 1 && s.end + 1 == b && pdf[a] == b'<' && pdf[s.end] == b'>' && s.len() == 2 * contents.len()
    });
    if !read_from_gap && !gap_spells(&pdf[a..b], contents, cms_len, zero_padded) {
        return Err("the unsigned gap of /ByteRange is not exactly the hex string of the signature's /Contents".into());
    }
    // The signature dictionary itself must be signed: its object (or, written inline, its
    // field's object) starts before the gap, inside this revision.
    if let Some(id) = f.value_id.or(f.field_id) {
        match r.doc.offset_of(id) {
            Some(off) if off < a => {}
            _ => return Err("the signature dictionary does not lie in the signed bytes".into()),
        }
    }
    if !zero_padded {
        return Err("/Contents holds bytes after the CMS other than zero padding".into());
    }
    Ok(Checked {
        parts: [&pdf[..a], &pdf[b..end]],
        cms: cms.to_vec(),
        b,
        end,
    })
}

/// Whether `gap` is exactly `<hex>` of `contents`, whose bytes from `cms_len` on are all
/// zero when `zero_padded`. Zero bytes are spelled `00` in either case, so the padding
/// (often half the reserve) is compared as a run of `0` digits, which the compiler
/// vectorises.
fn gap_spells(gap: &[u8], contents: &[u8], cms_len: usize, zero_padded: bool) -> bool {
    let Some(hex) = gap
        .strip_prefix(b"<")
        .and_then(|g| g.strip_suffix(b">"))
        .filter(|h| h.len() == 2 * contents.len())
    else {
        return false;
    };
    if zero_padded && cms_len <= contents.len() {
        let (hex_cms, hex_padding) = hex.split_at(2 * cms_len);
        hex_matches(hex_cms, &contents[..cms_len]) && hex_padding.iter().fold(0, |acc, &c| acc | (c ^ b'0')) == 0
    } else {
        hex_matches(hex, contents)
    }
}

/// Whether `hex` (an even number of hex digits, either case) spells exactly `bytes`,
/// decoded a block at a time on the stack and compared, never into a copy: the gap is as
/// long as the /Contents reserve, often tens of kilobytes per signature.
fn hex_matches(hex: &[u8], bytes: &[u8]) -> bool {
    if hex.len() != 2 * bytes.len() {
        return false;
    }
    let mut block = [0u8; 256];
    let mut bad = 0u8;
    for (h, b) in hex.chunks(2 * block.len()).zip(bytes.chunks(block.len())) {
        let decoded = &mut block[..b.len()];
        bad |= lazy::decode_pairs_into(h, decoded);
        if decoded != b {
            return false;
        }
    }
    bad == 0
}

/// The digest each signature's content would need, read from its CMS before verifying:
/// the first signer's digest algorithm, or a time-stamp token's imprint algorithm.
fn wanted_digest(sub_filter: Option<&str>, cms: &[u8]) -> Option<DigestAlgorithm> {
    let d = signed_data::decode(cms).ok()?;
    let sd = signed_data::parse(&d.der).ok()?;
    match sub_filter? {
        "adbe.pkcs7.detached" | "ETSI.CAdES.detached" => {
            DigestAlgorithm::from_algorithm_identifier(sd.signers.first()?.digest_algorithm).ok()
        }
        "ETSI.RFC3161" => tsp::tst_info::parse(sd.econtent?).ok()?.hash_algorithm.ok(),
        _ => None,
    }
}

/// The digest of each signature's two ranges `[0, a)` and `[b, e)` with its algorithm,
/// hashing the file's common prefix once per algorithm: the signatures are taken by `a`,
/// one running hash advances over the prefix and is cloned at each `a` to finish with that
/// signature's second range. The ranges must lie in `pdf` (checked by `check_byte_range`).
fn shared_prefix_digests(pdf: &[u8], wants: &[Option<(DigestAlgorithm, usize, usize, usize)>]) -> Vec<Option<Vec<u8>>> {
    let mut out: Vec<Option<Vec<u8>>> = vec![None; wants.len()];
    let mut algs: Vec<DigestAlgorithm> = wants.iter().flatten().map(|w| w.0).collect();
    algs.sort_by_key(|a| a.name());
    algs.dedup();
    for alg in algs {
        let mut order: Vec<(usize, usize, usize, usize)> = wants
            .iter()
            .enumerate()
            .filter_map(|(i, w)| w.filter(|w| w.0 == alg).map(|(_, a, b, e)| (a, b, e, i)))
            .collect();
        order.sort_unstable();
        let mut running = alg.hasher();
        let mut pos = 0;
        for (a, b, e, i) in order {
            running.update(&pdf[pos..a]);
            pos = a;
            let mut h = running.clone();
            h.update(&pdf[b..e]);
            out[i] = Some(h.finish());
        }
    }
    out
}

fn digest_of(alg: DigestAlgorithm, parts: &[&[u8]]) -> Vec<u8> {
    let mut h = alg.hasher();
    for p in parts {
        h.update(p);
    }
    h.finish()
}

/// A document time-stamp: the token's imprint over the ranges.
fn verify_doc_timestamp(
    ctx: &dyn TrustContext,
    token: &[u8],
    parts: &[&[u8]],
    precomputed: Option<(DigestAlgorithm, Vec<u8>)>,
    at: UnixTime,
) -> (TimestampOutcome, VerifyOutcome) {
    // The imprint's algorithm is read from the token first, so the ranges are hashed once.
    let alg = signed_data::decode(token)
        .ok()
        .and_then(|d| {
            let sd = signed_data::parse(&d.der).ok()?;
            let t = tsp::tst_info::parse(sd.econtent?).ok()?;
            t.hash_algorithm.ok()
        })
        .unwrap_or(DigestAlgorithm::Sha256);
    let digest = match precomputed {
        Some((a, d)) if a == alg => d,
        _ => digest_of(alg, parts),
    };
    let t = tsp::verify_token(
        ctx,
        token,
        Stamped::Digest {
            algorithm: alg,
            digest: &digest,
        },
        at,
    );
    let sid = signed_data::decode(token).ok().and_then(|d| {
        signed_data::parse(&d.der)
            .ok()
            .and_then(|sd| sd.signers.first().map(|s| s.sid.clone()))
    });
    let signer = SignerOutcome {
        code: t.code,
        reason: t.reason.clone(),
        certificate: t.tsa_certificate.clone(),
        chain: t.chain.clone(),
        signing_time: t.gen_time.map(|g| g.seconds),
        digest_algorithm: t.hash_algorithm,
        signature_algorithm: None,
        sid: sid.unwrap_or(SignerIdentity::SubjectKeyId(Vec::new())),
        signature_verified: matches!(t.code, Code::Ok | Code::TimestampUntrusted),
        revocation: t.revocation.clone(),
        needs: t.needs.clone(),
        signature_time: None,
        signature_time_source: crate::cms::verify::TimeSource::None,
        timestamps: Vec::new(),
        countersigners: Vec::new(),
        warnings: {
            // The TSA's path is this signer's path: a legacy algorithm admitted on it is said.
            let mut legacy = crate::cms::verify::LegacyAdmitted::default();
            legacy.chain(&t.chain, &t.revocation);
            legacy.warnings()
        },
        decided_by: Default::default(),
    };
    let v = VerifyOutcome {
        code: t.code,
        reason: t.reason.clone(),
        signers: vec![signer],
        was_ber: false,
        detached: false,
        content_type: Some("1.2.840.113549.1.9.16.1.4".into()),
        content: None,
        form: crate::cms::input::InputForm::Der,
    };
    (t, v)
}

/// Verifies every signature of a PDF at `at`: signers in `ctx` (the engine's document
/// context: the trust store), document time-stamps in the engine's time-stamp context
/// (`tsa_trust`). Never panics on input; every failure is a result.
pub fn verify_pdf(engine: &Engine, ctx: &dyn TrustContext, pdf: &[u8], at: UnixTime, limits: &PdfLimits) -> PdfOutcome {
    let scan = revisions::Prescan::of(pdf, limits);
    let scan = &scan;
    let shared = lazy::Shared::default();
    let last_read = match revisions::read_last(pdf, scan, &shared, limits) {
        Ok(r) => r,
        Err(e) => return PdfOutcome::failure(Code::PdfMalformed, e.0),
    };
    let revs = match last_read.revisions(pdf, limits) {
        Ok(r) => r,
        Err(e) => return PdfOutcome::failure(Code::PdfMalformed, e.0),
    };
    let Some(last) = revs.last() else {
        return PdfOutcome::failure(Code::PdfMalformed, "no revision of the file could be read");
    };
    let last_doc = &last.doc;
    // Signatures, each with the first revision that holds it (keyed by its value's bytes).
    // Every revision is looked at: a signature a later revision removed or replaced is
    // still found and judged, so that its removal is `other`. The last revision first, so
    // that a document that does not read says so for the revision a reader sees.
    let mut per_revision = Vec::with_capacity(revs.len());
    for (k, r) in revs.iter().enumerate().rev() {
        match fields::signature_fields(&r.doc, limits) {
            Ok(fs) => per_revision.push((k, fs)),
            Err(e) => return PdfOutcome::failure(Code::PdfMalformed, format!("revision {k}: {e}")),
        }
    }
    let mut found: Vec<(usize, fields::SigField)> = Vec::new();
    for (k, fs) in per_revision.into_iter().rev() {
        for f in fs {
            if !found
                .iter()
                .any(|(_, g)| g.byte_range == f.byte_range && g.contents == f.contents)
            {
                if found.len() >= limits.max_signatures {
                    return PdfOutcome::failure(
                        Code::PdfMalformed,
                        format!("more than {} signatures", limits.max_signatures),
                    );
                }
                found.push((k, f));
            }
        }
    }
    let mut out = PdfOutcome {
        code: Code::Ok,
        reason: String::new(),
        signatures: Vec::new(),
        revisions: revs.len(),
    };
    if found.is_empty() {
        out.code = Code::NoSignature;
        out.reason = "the PDF has no signed signature field".into();
        return out;
    }
    // What each update did, computed once per pair of consecutive revisions from the
    // first signature's on; steps[k] is revision k to k + 1.
    let first_signed = found.iter().map(|(k, _)| *k).min().unwrap_or(0);
    let steps: Vec<Modification> = revs
        .windows(2)
        .enumerate()
        .map(|(k, w)| {
            if k < first_signed {
                // Before every signature: never looked at.
                Modification::None
            } else {
                changes::classify(&w[0].doc, &w[1].doc, limits.max_objects)
            }
        })
        .collect();
    // The DSS of the last revision is evidence for every signature.
    // The DSS is this PDF's evidence only: given to its paths, never to the engine's stores
    // (an answer one PDF carried decided later documents' verdicts).
    let dss = read_dss(last_doc, limits);
    let dss_certs: Vec<CertRef> = dss.certs.iter().filter_map(|d| ctx.certificate(d).ok()).collect();
    let dss_crls: Vec<Arc<CrlIndex>> = dss.crls.iter().filter_map(|d| ctx.crl(d).ok()).collect();
    let dss_ocsp: Vec<Arc<crate::revocation::ocsp::OcspResponse>> = dss
        .ocsps
        .iter()
        .filter_map(|d| crate::revocation::ocsp::OcspResponse::from_der(d).ok().map(Arc::new))
        .collect();
    // Signers are judged against the trust store (`ctx`), document time-stamps' TSAs
    // against `tsa_trust` (the engine's time-stamp context): never the other way round.
    let tsa_ctx = engine.trust_context(at);
    // A signature's own /VRI entry adds to the DSS for that signature only.
    let contexts = |vri: &Dss| -> (PdfContext<'_>, PdfContext<'_>) {
        let mut certs = dss_certs.clone();
        let mut crls = dss_crls.clone();
        let mut ocsp = dss_ocsp.clone();
        certs.extend(vri.certs.iter().filter_map(|d| ctx.certificate(d).ok()));
        crls.extend(vri.crls.iter().filter_map(|d| ctx.crl(d).ok()));
        ocsp.extend(
            vri.ocsps
                .iter()
                .filter_map(|d| crate::revocation::ocsp::OcspResponse::from_der(d).ok().map(Arc::new)),
        );
        let signer = PdfContext {
            inner: ctx,
            certs: certs.clone(),
            crls: crls.clone(),
            ocsp: ocsp.clone(),
        };
        let tsa = PdfContext {
            inner: &tsa_ctx,
            certs,
            crls,
            ocsp,
        };
        (signer, tsa)
    };
    let (pctx_all, tctx_all) = contexts(&Dss::default());
    // Every byte range checked first, so that the digests can share the file's prefix.
    let checked: Vec<Result<Checked<'_>, String>> = found
        .iter()
        .map(|(rev, f)| check_byte_range(pdf, f, &revs, *rev))
        .collect();
    let wants: Vec<Option<(DigestAlgorithm, usize, usize, usize)>> = found
        .iter()
        .zip(&checked)
        .map(|((_, f), c)| {
            let c = c.as_ref().ok()?;
            let alg = wanted_digest(f.sub_filter.as_deref(), &c.cms)?;
            Some((alg, c.parts[0].len(), c.b, c.end))
        })
        .collect();
    let mut digests = shared_prefix_digests(pdf, &wants);
    let lock_levels: Vec<Option<u8>> = found.iter().map(|(_, f)| f.lock_permissions).collect();
    // The certification signature: named by /Perms /DocMDP in the revision it was made in.
    for (k, ((rev, f), checked)) in found.into_iter().zip(checked).enumerate() {
        let precomputed = wants[k].zip(digests[k].take()).map(|(w, d)| (w.0, d));
        let certifying =
            f.docmdp.is_some() && f.value_id.is_some() && fields::docmdp_signature(&revs[rev].doc) == f.value_id;
        let docmdp = if certifying { f.docmdp } else { None };
        let modification = steps
            .get(rev..)
            .unwrap_or(&[])
            .iter()
            .copied()
            .max()
            .unwrap_or(Modification::None);
        let is_doc_ts = f.sub_filter.as_deref() == Some("ETSI.RFC3161");
        // FieldMDP (§12.8.2.4): a locked field's value must be the same in the last
        // revision as in the signed one.
        let lock_broken = f.field_lock.as_ref().and_then(|lock| {
            if rev + 1 == revs.len() {
                return None;
            }
            let then = fields::field_values(&revs[rev].doc, limits);
            let now = fields::field_values(last_doc, limits);
            then.iter()
                .filter(|(name, _)| lock.covers(name) && *name != f.name)
                .find(|(name, v)| now.iter().find(|(n, _)| n == name).map(|(_, w)| w) != Some(v))
                .map(|(name, _)| name.clone())
        });
        let covers = rev + 1 == revs.len()
            && f.byte_range.as_ref().is_some_and(|br| {
                br.len() == 4
                    && usize::try_from(br[2].saturating_add(br[3]))
                        .is_ok_and(|e| e == last.end || e == last.end_with_eol)
            });
        let mut s = PdfSignatureOutcome {
            code: Code::Ok,
            reason: String::new(),
            field: f.name.clone(),
            subfilter: f.sub_filter.clone(),
            revision: rev,
            byte_range: f.byte_range.clone().unwrap_or_default(),
            covers_whole_document: covers,
            modification,
            docmdp,
            is_doc_timestamp: is_doc_ts,
            signing_reason: f.reason.clone(),
            location: f.location.clone(),
            name: f.signer_name.clone(),
            claimed_time: f.m.clone(),
            cms: Arc::new(VerifyOutcome::failure(Code::Malformed, "not verified")),
            timestamp: None,
        };
        match checked {
            Err(why) => {
                s.code = Code::ByteRangeInvalid;
                s.reason = why.clone();
                s.cms = Arc::new(VerifyOutcome::failure(Code::ByteRangeInvalid, why));
            }
            Ok(Checked { parts, cms, .. }) => {
                let vri = f
                    .contents
                    .as_deref()
                    .map(|c| read_vri(last_doc, c, cms.len(), limits))
                    .unwrap_or_default();
                let own;
                let (pctx, tctx) = if vri.is_empty() {
                    (&pctx_all, &tctx_all)
                } else {
                    own = contexts(&vri);
                    (&own.0, &own.1)
                };
                let cms = cms.as_slice();
                let v = match f.sub_filter.as_deref() {
                    Some("adbe.pkcs7.detached") | Some("ETSI.CAdES.detached") => {
                        verify_document_parts_digested(pctx, cms, &parts, precomputed.into_iter().collect())
                    }
                    // Legacy (ISO 32000-1 §12.8.3.3.1): the CMS encapsulates the SHA-1
                    // digest of the ranges; SHA-1 collisions make it legacy-only.
                    Some("adbe.pkcs7.sha1") if !pctx.legacy_allowed() => VerifyOutcome::failure(
                        Code::AlgorithmNotAllowed,
                        "adbe.pkcs7.sha1 signs a SHA-1 digest of the document, and the policy does not allow legacy",
                    ),
                    Some("adbe.pkcs7.sha1") => {
                        let d = digest_of(DigestAlgorithm::Sha1, &parts);
                        verify_document_parts(pctx, cms, Some(&[d.as_slice()]))
                    }
                    Some("ETSI.RFC3161") => {
                        let (t, v) = verify_doc_timestamp(tctx, cms, &parts, precomputed, at);
                        s.timestamp = Some(t);
                        v
                    }
                    other => VerifyOutcome::failure(
                        Code::UnsupportedAlgorithm,
                        format!(
                            "signature SubFilter {} is not supported (adbe.pkcs7.detached, ETSI.CAdES.detached, adbe.pkcs7.sha1, ETSI.RFC3161 are)",
                            other.unwrap_or("(none)")
                        ),
                    ),
                };
                s.code = v.code;
                s.reason = v.reason.clone();
                s.cms = Arc::new(v);
            }
        }
        if let Some(name) = lock_broken {
            if s.code == Code::Ok || s.code.rank() < Code::ModifiedAfterSigning.rank() {
                s.code = Code::ModifiedAfterSigning;
                s.reason = format!("field '{name}', locked by this signature (FieldMDP), was changed after signing");
            }
        }
        out.signatures.push(s);
    }
    // Changes after signing: DocMDP bounds what follows a certification; `other` after
    // any signature is never permitted.
    let cert_level = out
        .signatures
        .iter()
        .filter_map(|s| s.docmdp.map(|p| (s.revision, p)))
        .min();
    for (s, lock_p) in out.signatures.iter_mut().zip(lock_levels) {
        let mut limit = Modification::Annotations;
        if let Some((crev, p)) = cert_level {
            if s.revision >= crev {
                limit = limit.min(Modification::allowed_by_docmdp(p));
            }
        }
        // A signed field whose /Lock carries /P bounds what follows it the same way.
        let lock_limit = lock_p.map(Modification::allowed_by_docmdp).filter(|l| *l < limit);
        if let Some(l) = lock_limit {
            limit = l;
        }
        if s.modification > limit && s.code != Code::ByteRangeInvalid {
            let why = match (lock_limit, lock_p, cert_level) {
                (Some(_), Some(p), _) => format!(
                    "revisions after this signature made changes of kind '{}', beyond what its field's /Lock (P={p}) permits",
                    s.modification.name()
                ),
                (_, _, Some((_, p))) if limit < Modification::Annotations => format!(
                    "revisions after this signature made changes of kind '{}', beyond what the certification (DocMDP P={p}) permits",
                    s.modification.name()
                ),
                _ => format!(
                    "revisions after this signature made changes of kind '{}' (page content, pages or other objects)",
                    s.modification.name()
                ),
            };
            if s.code.rank() < Code::ModifiedAfterSigning.rank() || s.code == Code::Ok {
                s.code = Code::ModifiedAfterSigning;
                s.reason = why;
            }
        }
    }
    if let Some((i, bad)) = out
        .signatures
        .iter()
        .enumerate()
        .filter(|(_, s)| s.code != Code::Ok)
        .max_by_key(|(_, s)| s.code.rank())
    {
        out.code = bad.code;
        out.reason = format!("signature '{}' (#{}): {}", bad.field, i + 1, bad.reason);
    }
    out
}

impl Engine {
    /// Verifies a signed PDF at `at` (see [`verify_pdf`]); a panic becomes `internal_error`.
    pub fn verify_pdf_at(&self, pdf: &[u8], at: UnixTime) -> PdfOutcome {
        let ctx = self.doc_context(at);
        guarded_pdf(|| verify_pdf(self, &ctx, pdf, at, &PdfLimits::default()))
    }

    /// Verifies many PDFs on `threads` threads; results in input order.
    pub fn verify_pdf_batch_at(&self, items: &[&[u8]], threads: Option<usize>, at: UnixTime) -> Vec<PdfOutcome> {
        use rayon::prelude::*;
        let run = || -> Vec<PdfOutcome> {
            items
                .par_iter()
                .with_min_len(1)
                .map(|p| self.verify_pdf_at(p, at))
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
}

/// Opens `path` for reading when it is a regular file. It is opened without blocking (a FIFO
/// would wait for a writer) and refused before any read when it is not a regular file: a
/// directory is its own error (EISDIR); a FIFO or a device (a read from /dev/zero never
/// ends) is `InvalidInput`, saying which.
fn open_regular(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let t = f.metadata()?.file_type();
    if t.is_dir() {
        return Err(std::io::Error::from_raw_os_error(libc::EISDIR));
    }
    if !t.is_file() {
        let kind = if t.is_fifo() {
            "a FIFO"
        } else if t.is_char_device() || t.is_block_device() {
            "a device"
        } else {
            "not a regular file"
        };
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{kind}; a PDF is read from a regular file only"),
        ));
    }
    Ok(f)
}

/// Reads `f`, whose metadata gave `len` bytes, to its end into `buf` (at most `cap` bytes)
/// and returns how many bytes it read. `buf`'s length is its high-water mark: it grows,
/// zero-filled, only past it and is never cleared, so a file is read without zeroing
/// memory first and, when its size is still `len`, in one read call (and the call that
/// sees the end). A file that grew since is read on, to `cap`.
fn read_into(f: &mut std::fs::File, len: usize, cap: usize, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    use std::io::Read;
    let want = len.saturating_add(1).min(cap);
    if buf.len() < want {
        buf.resize(want, 0);
    }
    let mut n = 0;
    loop {
        if n == buf.len() {
            if n >= cap {
                return Ok(n);
            }
            buf.resize(n.saturating_mul(2).max(64 << 10).min(cap), 0);
        }
        match f.read(&mut buf[n..]) {
            Ok(0) => return Ok(n),
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

thread_local! {
    /// The buffer each worker reads PDF files into, kept between files: a fresh buffer per
    /// file costs a page fault per 4 KiB (and the unmapping after), as much as hashing it.
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A worker's buffer is given back to the allocator when a file made it larger than this.
const KEEP_READ_BUFFER: usize = 64 << 20;

impl Engine {
    /// Reads and verifies PDF files on `threads` threads, each file read by the worker that
    /// verifies it into a buffer the worker keeps; results in input order. A file larger
    /// than the size limit is `pdf_malformed` without being read; a file that cannot be read
    /// is its I/O error.
    pub fn verify_pdf_files_at(
        &self,
        paths: &[std::path::PathBuf],
        threads: Option<usize>,
        at: UnixTime,
    ) -> Vec<std::io::Result<PdfOutcome>> {
        use rayon::prelude::*;
        let limits = PdfLimits::default();
        let one = |path: &std::path::PathBuf| -> std::io::Result<PdfOutcome> {
            let mut f = open_regular(path)?;
            let len = f.metadata()?.len();
            if usize::try_from(len).map_or(true, |n| n > limits.max_bytes) {
                return Ok(PdfOutcome::failure(
                    Code::PdfMalformed,
                    format!(
                        "the file is {len} bytes; govsig reads PDFs of at most {} bytes",
                        limits.max_bytes
                    ),
                ));
            }
            // One byte more than the limit: a file that grew past it since its size was
            // read is refused as too large, never read whole.
            let cap = limits.max_bytes + 1;
            let mut read = |buf: &mut Vec<u8>| -> std::io::Result<PdfOutcome> {
                let n = read_into(&mut f, usize::try_from(len).unwrap_or(usize::MAX), cap, buf)?;
                Ok(self.verify_pdf_at(&buf[..n], at))
            };
            READ_BUFFER.with(|cell| match cell.try_borrow_mut() {
                Ok(mut buf) => {
                    let out = read(&mut buf);
                    if buf.capacity() > KEEP_READ_BUFFER {
                        *buf = Vec::new();
                    }
                    out
                }
                // Re-entered on this thread (a nested job): a buffer of its own.
                Err(_) => read(&mut Vec::new()),
            })
        };
        let run = || -> Vec<std::io::Result<PdfOutcome>> { paths.par_iter().with_min_len(1).map(one).collect() };
        match threads {
            None | Some(0) => run(),
            Some(n) => match self.pool(n) {
                Some(pool) => pool.install(run),
                None => run(),
            },
        }
    }
}

fn guarded_pdf(f: impl FnOnce() -> PdfOutcome) -> PdfOutcome {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(o) => o,
        Err(_) => PdfOutcome::failure(
            Code::InternalError,
            "internal error while verifying this PDF (a bug in govsig, please report it)",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::{dictionary, Document, Object, Stream};

    fn engine() -> Engine {
        Engine::new(crate::policy::Policy::default(), None, Vec::new(), Vec::new())
    }

    /// A one-page document written by lopdf (classic xref table).
    fn one_page() -> (Document, Vec<u8>) {
        let mut doc = Document::with_version("1.7");
        let pages_id = doc.new_object_id();
        let content = doc.add_object(Stream::new(dictionary! {}, b"BT ET".to_vec()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        });
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).expect("lopdf writes");
        (doc, out)
    }

    #[test]
    fn an_unsigned_document_has_no_signature() {
        let (_, bytes) = one_page();
        let e = engine();
        let out = e.verify_pdf_at(&bytes, 0);
        assert_eq!(out.code, Code::NoSignature, "{}", out.reason);
        assert_eq!(out.revisions, 1);
    }

    #[test]
    fn garbage_and_truncations_are_pdf_malformed() {
        let (_, bytes) = one_page();
        let e = engine();
        for input in [
            &b""[..],
            b"%PDF-",
            b"%PDF-1.7\nstartxref\n0\n%%EOF",
            &bytes[..bytes.len() - 8],
        ] {
            let out = e.verify_pdf_at(input, 0);
            assert_eq!(out.code, Code::PdfMalformed, "{:?}", String::from_utf8_lossy(input));
            assert!(!out.reason.is_empty());
        }
        let mut tail = bytes.clone();
        tail.extend_from_slice(b"1 0 obj\n<< >>\nendobj\n");
        assert_eq!(e.verify_pdf_at(&tail, 0).code, Code::PdfMalformed);
    }

    #[test]
    fn shared_prefix_digests_equal_digests_of_each_signature() {
        let pdf: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let wants = [
            Some((DigestAlgorithm::Sha256, 6000, 6100, 9000)),
            Some((DigestAlgorithm::Sha256, 100, 200, 5000)),
            None,
            Some((DigestAlgorithm::Sha384, 100, 200, 5000)),
            Some((DigestAlgorithm::Sha256, 9100, 9200, 10_000)),
        ];
        let got = shared_prefix_digests(&pdf, &wants);
        for (w, d) in wants.iter().zip(&got) {
            match w {
                None => assert!(d.is_none()),
                Some((alg, a, b, e)) => {
                    assert_eq!(
                        d.as_deref(),
                        Some(digest_of(*alg, &[&pdf[..*a], &pdf[*b..*e]]).as_slice())
                    )
                }
            }
        }
    }

    #[test]
    fn hex_matches_without_decoding() {
        assert!(hex_matches(b"00aBff", &[0, 0xab, 0xff]));
        assert!(!hex_matches(b"00abfe", &[0, 0xab, 0xff]));
        assert!(!hex_matches(b"00ab", &[0, 0xab, 0xff]));
        assert!(!hex_matches(b"0g", &[0]));
        assert!(hex_matches(b"", &[]));
    }

    #[test]
    fn the_gap_spells_contents_with_or_without_the_padding_shortcut() {
        let contents = [0x30, 0x02, 0xab, 0xcd, 0, 0, 0];
        let spells = |gap: &[u8], c: &[u8]| {
            let cms_len = tlv_len(c).filter(|&n| n <= c.len()).unwrap_or(c.len());
            let zero = c[cms_len..].iter().all(|&z| z == 0);
            let fast = gap_spells(gap, c, cms_len, zero);
            let slow = gap.len() == 2 + 2 * c.len()
                && gap.first() == Some(&b'<')
                && gap.last() == Some(&b'>')
                && hex_matches(&gap[1..gap.len() - 1], c);
            assert_eq!(fast, slow, "{}", String::from_utf8_lossy(gap));
            fast
        };
        assert!(spells(b"<3002abcd000000>", &contents));
        assert!(spells(b"<3002ABCD000000>", &contents));
        assert!(!spells(b"<3002abcd0000o0>", &contents));
        assert!(!spells(b"<3002abcd00000 >", &contents));
        assert!(!spells(b"<3002abcd0000>", &contents));
        assert!(!spells(b"<3002abce000000>", &contents));
        assert!(!spells(b"3002abcd000000", &contents));
        let padded_badly = [0x30, 0x02, 0xab, 0xcd, 0, 7, 0];
        assert!(spells(b"<3002abcd000700>", &padded_badly));
        assert!(!spells(b"<3002abcd000000>", &padded_badly));
    }

    #[test]
    fn a_file_is_read_whole_into_a_kept_buffer_up_to_the_cap() {
        let dir = std::env::temp_dir().join(format!("govsig-read-into-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("f.pdf");
        let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &body).expect("write");
        let mut buf = Vec::new();
        let read = |len: usize, cap: usize, buf: &mut Vec<u8>| {
            let mut f = std::fs::File::open(&path).expect("open");
            read_into(&mut f, len, cap, buf).expect("read")
        };
        // Its size as its metadata gave it; then a larger buffer left by a larger file.
        assert_eq!(read(body.len(), 1 << 20, &mut buf), body.len());
        assert_eq!(&buf[..body.len()], &body[..]);
        buf.resize(1 << 20, 0xee);
        assert_eq!(read(body.len(), 1 << 20, &mut buf), body.len());
        assert_eq!(&buf[..body.len()], &body[..]);
        // The file grew after its size was read (it is read on), or past the cap (the read
        // stops one byte past the limit, so the caller sees it is too large).
        let mut fresh = Vec::new();
        assert_eq!(read(10, 1 << 20, &mut fresh), body.len());
        assert_eq!(&fresh[..body.len()], &body[..]);
        let mut capped = Vec::new();
        assert_eq!(read(10, 1001, &mut capped), 1001);
        assert_eq!(&capped[..1001], &body[..1001]);
        // A file that shrank: what is there.
        assert_eq!(read(body.len() * 2, 1 << 20, &mut Vec::new()), body.len());
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn only_regular_files_are_opened_for_reading() {
        let dir = std::env::temp_dir().join(format!("govsig-open-regular-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("a.pdf");
        std::fs::write(&file, b"%PDF-").expect("write");
        assert!(open_regular(&file).is_ok());
        assert_eq!(
            open_regular(&dir).expect_err("a directory").raw_os_error(),
            Some(libc::EISDIR)
        );
        let dev = open_regular(std::path::Path::new("/dev/null")).expect_err("a device");
        assert_eq!(dev.kind(), std::io::ErrorKind::InvalidInput);
        assert!(dev.to_string().starts_with("a device;"), "{dev}");
        // A symlink is followed to what it names.
        let link = dir.join("zero.pdf");
        std::os::unix::fs::symlink("/dev/zero", &link).expect("symlink");
        assert_eq!(
            open_regular(&link).expect_err("a device").kind(),
            std::io::ErrorKind::InvalidInput
        );
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn tlv_length_of_definite_forms() {
        assert_eq!(tlv_len(&[0x30, 0x03, 1, 2, 3]), Some(5));
        assert_eq!(tlv_len(&[0x30, 0x82, 0x01, 0x00]), Some(4 + 256));
        assert_eq!(tlv_len(&[0x30, 0x80]), None);
        assert_eq!(tlv_len(&[0x30]), None);
    }

    /// `pdf` with an incremental update appended that writes `objects` (number, body) and
    /// a trailer with `extra` entries; also the new revision's `startxref`.
    fn append_update(pdf: &[u8], objects: &[(u32, &str)], extra: &str) -> (Vec<u8>, usize) {
        let text = String::from_utf8_lossy(pdf);
        let prev: usize = text[text.rfind("startxref").expect("startxref") + 9..]
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .expect("an offset");
        let root = text[text.rfind("/Root").expect("/Root") + 5..]
            .split(" R")
            .next()
            .expect("a reference")
            .trim()
            .to_string();
        let mut out = pdf.to_vec();
        out.push(b'\n');
        let mut offsets = Vec::new();
        for (n, body) in objects {
            offsets.push((*n, out.len()));
            out.extend_from_slice(format!("{n} 0 obj\n{body}\nendobj\n").as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(b"xref\n");
        for (n, at) in &offsets {
            out.extend_from_slice(format!("{n} 1\n{at:010} 00000 n\r\n").as_bytes());
        }
        let size = objects.iter().map(|(n, _)| n + 1).max().unwrap_or(1).max(20);
        out.extend_from_slice(
            format!("trailer\n<< /Size {size} /Root {root} R /Prev {prev} {extra} >>\nstartxref\n{xref}\n%%EOF\n")
                .as_bytes(),
        );
        (out, xref)
    }

    fn startxref(pdf: &[u8]) -> usize {
        let text = String::from_utf8_lossy(pdf);
        text[text.rfind("startxref").expect("startxref") + 9..]
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .expect("an offset")
    }

    #[test]
    fn changed_page_content_is_other_and_info_is_ltv() {
        let (before, bytes) = one_page();
        let limits = PdfLimits::default();
        let content = before
            .objects
            .iter()
            .find(|(_, o)| matches!(o, Object::Stream(_)))
            .map(|(id, _)| *id)
            .expect("a content stream");
        fn open<'p>(b: &'p [u8], limits: &PdfLimits) -> lazy::Doc<'p> {
            let shared = Box::leak(Box::default());
            lazy::Doc::open(b, startxref(b), limits, shared).expect("opens")
        }
        let (changed, _) = append_update(
            &bytes,
            &[(content.0, "<< /Length 12 >>\nstream\nBT (x) Tj ET\nendstream")],
            "",
        );
        let first = open(&bytes, &limits);
        assert_eq!(
            changes::classify(&first, &open(&changed, &limits), 1000),
            Modification::Other
        );
        // The same object written again, unchanged, is no change.
        let (rewritten, _) = append_update(&bytes, &[(content.0, "<< /Length 5 >>\nstream\nBT ET\nendstream")], "");
        assert_eq!(
            changes::classify(&first, &open(&rewritten, &limits), 1000),
            Modification::None
        );
        assert_eq!(
            changes::classify(&first, &open(&bytes, &limits), 1000),
            Modification::None
        );

        let (with_info, _) = append_update(&bytes, &[(90, "<< /Producer (a) >>")], "/Info 90 0 R");
        let (changed_info, _) = append_update(&with_info, &[(90, "<< /Producer (b) >>")], "/Info 90 0 R");
        assert_eq!(
            changes::classify(&open(&with_info, &limits), &open(&changed_info, &limits), 1000),
            Modification::LtvOnly
        );
    }

    #[test]
    fn docmdp_levels_bound_modifications() {
        assert_eq!(Modification::allowed_by_docmdp(1), Modification::LtvOnly);
        assert_eq!(Modification::allowed_by_docmdp(2), Modification::FormFill);
        assert_eq!(Modification::allowed_by_docmdp(3), Modification::Annotations);
    }
}
