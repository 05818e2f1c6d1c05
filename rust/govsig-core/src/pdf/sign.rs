//! Signing a PDF (ISO 32000-1 §12.8, ETSI EN 319 142-1 PAdES B-B / B-T) as an incremental
//! update: the original bytes are kept as they are and a new revision adds an invisible
//! signature field (merged with its widget, on the first page), its signature dictionary
//! and, for a certification, the catalog's /Perms /DocMDP.
//!
//! The steps:
//! 1. [`PreparedPdf::prepare`]: lopdf loads the document and writes the update
//!    ([`lopdf::IncrementalDocument`]): every object, the cross-reference section (table or
//!    stream, as the original uses) and the trailer with /Prev are lopdf's. The signature
//!    dictionary carries a /ByteRange of fixed-width placeholders and a /Contents of zero
//!    bytes sized for the CMS.
//! 2. The byte ranges are known only once the update is laid out, so the two placeholders
//!    are patched in place, each with exactly as many bytes as it had (this is the only
//!    hand-written PDF syntax: `[0 a b c]` padded with spaces, and the hex of the CMS padded
//!    with zeros). Every signer does this; no PDF library can know the offsets earlier.
//! 3. [`PreparedPdf::sign`] hashes the two ranges in place and signs with the ordinary CMS
//!    signer (ESS signing-certificate-v2, no signingTime: the time is /M); a signature
//!    time-stamp, when asked, is added to the CMS by the caller (it is network I/O).
//! 4. [`PreparedPdf::finish`] writes the CMS into /Contents, or refuses when it does not fit.

use std::fmt;

use lopdf::{dictionary, Document, IncrementalDocument, LoadOptions, Object, ObjectId, StringFormat};

use super::fields;
use super::revisions::PdfLimits;
use crate::cms::sign::{CmsSigner, SignError, SignOptions};
use crate::time::UnixTime;

/// Why a PDF could not be signed.
#[derive(Debug)]
pub enum PdfSignError {
    /// The PDF is encrypted: govsig does not decrypt and re-encrypt documents.
    Encrypted,
    /// The PDF does not read as written (or is not a PDF).
    Malformed(String),
    /// A form field with the requested name exists.
    FieldExists(String),
    /// An option is out of range (field name, DocMDP level, placeholder size).
    InvalidArgument(String),
    /// The CMS is larger than the /Contents placeholder.
    PlaceholderTooSmall { needed: usize, available: usize },
    /// The CMS could not be made.
    Sign(SignError),
}

impl fmt::Display for PdfSignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PdfSignError::Encrypted => write!(
                f,
                "the PDF is encrypted; govsig signs unencrypted PDFs only (decrypt it first, e.g. qpdf --decrypt)"
            ),
            PdfSignError::Malformed(why) => write!(f, "the PDF cannot be signed: {why}"),
            PdfSignError::FieldExists(name) => write!(
                f,
                "the PDF already has a form field named '{name}'; choose another field name"
            ),
            PdfSignError::InvalidArgument(why) => f.write_str(why),
            PdfSignError::PlaceholderTooSmall { needed, available } => write!(
                f,
                "the signature is {needed} bytes but /Contents was sized for {available}; sign again with contents_size={needed} or more"
            ),
            PdfSignError::Sign(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for PdfSignError {}

impl From<SignError> for PdfSignError {
    fn from(e: SignError) -> Self {
        PdfSignError::Sign(e)
    }
}

/// The signature's /SubFilter: what kind of CMS /Contents holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PdfSubFilter {
    /// ETSI.CAdES.detached (PAdES, ETSI EN 319 142-1): ESS signing-certificate-v2, no
    /// signingTime attribute (the time is /M).
    CadesDetached,
    /// adbe.pkcs7.detached (ISO 32000-1 §12.8.3.3): a detached CMS that may carry the
    /// signingTime attribute, as readers before PAdES expect; govsig writes it, set to /M.
    Pkcs7Detached,
}

impl PdfSubFilter {
    /// The name as written in the signature dictionary.
    pub fn name(self) -> &'static str {
        match self {
            PdfSubFilter::CadesDetached => "ETSI.CAdES.detached",
            PdfSubFilter::Pkcs7Detached => "adbe.pkcs7.detached",
        }
    }

    /// The SubFilter named `name`, if govsig signs with it.
    pub fn from_name(name: &str) -> Option<PdfSubFilter> {
        [PdfSubFilter::CadesDetached, PdfSubFilter::Pkcs7Detached]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// What the new signature says about itself.
#[derive(Clone, Debug)]
pub struct PdfSignOptions {
    /// The field's name. An existing signature field of that fully qualified name (parts
    /// joined by '.', as `parent.child`) that holds no signature yet is filled; any other
    /// field of that name is refused. Otherwise a new top-level field is made, whose name
    /// (its /T) cannot contain '.'.
    pub field: String,
    /// The kind of CMS written.
    pub sub_filter: PdfSubFilter,
    pub reason: Option<String>,
    pub location: Option<String>,
    /// /Name: the signer's name as shown by readers.
    pub name: Option<String>,
    /// A certification signature with this DocMDP level (1, 2 or 3).
    pub certify: Option<u8>,
    /// /M, the claimed signing time.
    pub signing_time: UnixTime,
    /// Bytes reserved for the CMS in /Contents.
    pub contents_size: usize,
}

/// The most bytes a /Contents placeholder may reserve.
pub const MAX_CONTENTS_SIZE: usize = 1 << 20;

/// Bytes to reserve for a CMS made by `signer`, plus a signature time-stamp token when
/// `with_timestamp` (a TSA's token with its certificates is typically 3–8 KiB).
pub fn estimated_contents_size(signer: &CmsSigner, with_timestamp: bool) -> usize {
    let certs: usize = signer.certificate_der().len() + signer.chain().iter().map(Vec::len).sum::<usize>();
    // Attributes, the SignerInfo (issuer name twice at most), a signature of up to RSA-8192.
    let base = certs + 2 * signer.certificate_der().len().min(4096) + 4096;
    base + if with_timestamp { 16384 } else { 0 }
}

/// A PDF with the signing revision written and its /Contents still empty.
pub struct PreparedPdf {
    bytes: Vec<u8>,
    sub_filter: PdfSubFilter,
    signing_time: UnixTime,
    /// `[0, a, b, c]`: the gap `[a, b)` is the hex string of /Contents with its `<` `>`.
    byte_range: [usize; 4],
}

/// PDF date (ISO 32000-1 §7.9.4) in UTC.
fn pdf_date(t: UnixTime) -> Result<String, PdfSignError> {
    let dt = crate::cms::sign::to_datetime(t)?;
    Ok(format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}+00'00'",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    ))
}

/// A text string (§7.9.2.2): PDFDocEncoding when it is printable ASCII, else UTF-16BE with
/// its byte order mark (Vietnamese names and places need it).
fn text(s: &str) -> Object {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Object::String(s.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut b = vec![0xfe, 0xff];
        for u in s.encode_utf16() {
            b.extend_from_slice(&u.to_be_bytes());
        }
        Object::String(b, StringFormat::Hexadecimal)
    }
}

/// A placeholder integer wide enough for any offset govsig accepts (13 digits).
const RANGE_PLACEHOLDER: i64 = 1_000_000_000_000;

fn load(pdf: &[u8], limits: &PdfLimits) -> Result<Document, PdfSignError> {
    if pdf.len() > limits.max_bytes {
        return Err(PdfSignError::Malformed(format!(
            "the file is {} bytes; govsig signs PDFs of at most {} bytes",
            pdf.len(),
            limits.max_bytes
        )));
    }
    if !pdf.starts_with(b"%PDF-") {
        return Err(PdfSignError::Malformed(
            "the file does not start with a %PDF- header".into(),
        ));
    }
    let opts = LoadOptions {
        max_decompressed_size: Some(limits.max_decompressed),
        ..LoadOptions::default()
    };
    let doc = match Document::load_mem_with_options(pdf, opts) {
        Ok(d) => d,
        Err(e) => {
            let msg = e.to_string();
            if msg.to_ascii_lowercase().contains("crypt") {
                return Err(PdfSignError::Encrypted);
            }
            return Err(PdfSignError::Malformed(format!("it does not parse: {msg}")));
        }
    };
    if doc.trailer.has(b"Encrypt") || doc.encryption_state.is_some() {
        return Err(PdfSignError::Encrypted);
    }
    if doc.xref_recovery.is_some() {
        return Err(PdfSignError::Malformed(
            "its cross-reference data does not describe the file (repair it first, e.g. qpdf in.pdf out.pdf)".into(),
        ));
    }
    if doc.objects.len() > limits.max_objects {
        return Err(PdfSignError::Malformed(format!(
            "it has {} objects; govsig handles at most {}",
            doc.objects.len(),
            limits.max_objects
        )));
    }
    Ok(doc)
}

/// A form field found by its fully qualified name: its object (None when written inline),
/// its dictionary, and its field type (its own /FT or the nearest ancestor's).
struct FoundField<'d> {
    id: Option<ObjectId>,
    dict: &'d lopdf::Dictionary,
    ft: Option<String>,
}

/// The field whose fully qualified name (ISO 32000-1 §12.7.3.2: the partial names /T from
/// the root of the field tree down, joined by '.') is `name`, walked from /AcroForm /Fields
/// part by part, bounded in depth and breadth.
fn find_field<'d>(doc: &'d Document, name: &str, limits: &PdfLimits) -> Option<FoundField<'d>> {
    let form = fields::catalog(doc)
        .and_then(|c| c.get(b"AcroForm").ok())
        .and_then(|f| fields::dict(doc, f))?;
    let Some(Object::Array(level)) = fields::get(doc, form, b"Fields") else {
        return None;
    };
    let mut level: &'d [Object] = level;
    let mut inherited: Option<String> = None;
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() > limits.max_depth {
        return None;
    }
    for (i, part) in parts.iter().enumerate() {
        let (o, d) = level.iter().take(100_000).find_map(|o| {
            let d = fields::dict(doc, o)?;
            match fields::get(doc, d, b"T")? {
                Object::String(t, _) if fields::text_string(t) == *part => Some((o, d)),
                _ => None,
            }
        })?;
        let ft = fields::name_of(doc, d, b"FT").or(inherited.take());
        if i + 1 == parts.len() {
            return Some(FoundField {
                id: o.as_reference().ok(),
                dict: d,
                ft,
            });
        }
        inherited = ft;
        level = match fields::get(doc, d, b"Kids") {
            Some(Object::Array(kids)) => kids,
            _ => return None,
        };
    }
    None
}

/// Whether a field has kids that are fields (a non-terminal field holds no value).
fn has_field_kids(doc: &Document, field: &lopdf::Dictionary) -> bool {
    match fields::get(doc, field, b"Kids") {
        Some(Object::Array(kids)) => kids.iter().any(|k| fields::dict(doc, k).is_some_and(|d| d.has(b"T"))),
        _ => false,
    }
}

/// The FieldMDP transform parameters that an empty signature field's /Lock dictionary asks
/// of the signature filling it (ISO 32000-1 §12.7.4.5 Table 233 → Table 256), with every
/// value written direct: /Action, and /Fields unless the action is /All. `None` without a
/// /Lock; an error for a /Lock a signer cannot honour as written.
fn field_lock_params(
    doc: &Document,
    field: &lopdf::Dictionary,
    name: &str,
) -> Result<Option<lopdf::Dictionary>, PdfSignError> {
    let Some(lock) = fields::get(doc, field, b"Lock") else {
        return Ok(None);
    };
    let bad = |why: &str| PdfSignError::Malformed(format!("the field '{name}' has a /Lock dictionary {why}"));
    let lock = fields::dict(doc, lock).ok_or_else(|| bad("that is not a dictionary"))?;
    let action = fields::name_of(doc, lock, b"Action").ok_or_else(|| bad("without an /Action name"))?;
    let mut params = dictionary! {
        "Type" => "TransformParams",
        "Action" => Object::Name(action.clone().into_bytes()),
        "V" => "1.2",
    };
    match action.as_str() {
        "All" => {}
        "Include" | "Exclude" => {
            let Some(Object::Array(list)) = fields::get(doc, lock, b"Fields") else {
                return Err(bad(&format!("whose /Action /{action} has no /Fields array")));
            };
            let names = list
                .iter()
                .take(1024)
                .map(|o| match fields::resolve(doc, o) {
                    Some(Object::String(s, f)) => Ok(Object::String(s.clone(), *f)),
                    _ => Err(bad("whose /Fields holds something other than a field name")),
                })
                .collect::<Result<Vec<_>, _>>()?;
            if names.len() < list.len() {
                return Err(bad("naming more than 1024 fields"));
            }
            params.set("Fields", names);
        }
        other => {
            return Err(bad(&format!(
                "with the unknown /Action /{other} (All, Include or Exclude)"
            )))
        }
    }
    Ok(Some(params))
}

/// Appends `item` to the array `key` of `holder` (an object of the new revision): an
/// indirect array is copied into the new revision and extended, a direct one extended, a
/// missing one created.
fn append_to_array(
    inc: &mut IncrementalDocument,
    holder: ObjectId,
    key: &[u8],
    item: Object,
) -> Result<(), PdfSignError> {
    let current = inc
        .new_document
        .get_dictionary(holder)
        .ok()
        .and_then(|d| d.get(key).ok())
        .cloned();
    match current {
        Some(Object::Reference(id)) => {
            inc.opt_clone_object_to_new_document(id)
                .map_err(|e| PdfSignError::Malformed(format!("/{}: {e}", String::from_utf8_lossy(key))))?;
            match inc.new_document.objects.get_mut(&id) {
                Some(Object::Array(a)) => a.push(item),
                _ => {
                    return Err(PdfSignError::Malformed(format!(
                        "/{} is not an array",
                        String::from_utf8_lossy(key)
                    )))
                }
            }
        }
        Some(Object::Array(mut a)) => {
            a.push(item);
            set_key(inc, holder, key, Object::Array(a))?;
        }
        None => set_key(inc, holder, key, Object::Array(vec![item]))?,
        Some(_) => {
            return Err(PdfSignError::Malformed(format!(
                "/{} is not an array",
                String::from_utf8_lossy(key)
            )))
        }
    }
    Ok(())
}

fn set_key(inc: &mut IncrementalDocument, holder: ObjectId, key: &[u8], value: Object) -> Result<(), PdfSignError> {
    inc.new_document
        .get_dictionary_mut(holder)
        .map_err(|e| PdfSignError::Malformed(e.to_string()))?
        .set(key.to_vec(), value);
    Ok(())
}

impl PreparedPdf {
    /// Writes the signing revision of `pdf` with empty placeholders.
    pub fn prepare(pdf: &[u8], opts: &PdfSignOptions, limits: &PdfLimits) -> Result<PreparedPdf, PdfSignError> {
        if opts.field.split('.').any(|p| p.is_empty() || p.chars().count() > 255) {
            return Err(PdfSignError::InvalidArgument(format!(
                "field name {:?} must be one or more parts of 1–255 characters joined by '.' (a qualified name)",
                opts.field
            )));
        }
        if let Some(p) = opts.certify {
            if !(1..=3).contains(&p) {
                return Err(PdfSignError::InvalidArgument(format!(
                    "certify must be None or the DocMDP level 1, 2 or 3, not {p}"
                )));
            }
        }
        if opts.contents_size < 64 || opts.contents_size > MAX_CONTENTS_SIZE {
            return Err(PdfSignError::InvalidArgument(format!(
                "contents_size must be between 64 and {MAX_CONTENTS_SIZE} bytes, not {}",
                opts.contents_size
            )));
        }
        let doc = load(pdf, limits)?;
        // An empty signature field of that name is filled (a form prepared for signing);
        // any other field of that name is refused, a signed one above all.
        let (empty_field, lock) = match find_field(&doc, &opts.field, limits) {
            Some(FoundField {
                id: Some(id),
                dict,
                ft: Some(ft),
            }) if ft == "Sig" && !dict.has(b"V") && !has_field_kids(&doc, dict) => {
                (Some(id), field_lock_params(&doc, dict, &opts.field)?)
            }
            Some(_) => return Err(PdfSignError::FieldExists(opts.field.clone())),
            None if opts.field.contains('.') => {
                return Err(PdfSignError::InvalidArgument(format!(
                    "the document has no field named {:?}: a qualified name (with '.') names an existing empty signature field; a new field's name cannot contain '.'",
                    opts.field
                )))
            }
            None => (None, None),
        };
        if empty_field.is_none()
            && fields::field_values(&doc, limits)
                .iter()
                .any(|(name, _)| *name == opts.field || name.split('.').next() == Some(opts.field.as_str()))
        {
            return Err(PdfSignError::FieldExists(opts.field.clone()));
        }
        let existing = fields::signature_fields(&doc, limits).map_err(PdfSignError::Malformed)?;
        if opts.certify.is_some() && !existing.is_empty() {
            return Err(PdfSignError::InvalidArgument(format!(
                "a certification signature must be the first signature of a document; this one has {}",
                existing.len()
            )));
        }
        // A certification with DocMDP P = 1 permits no change at all (ISO 32000-1 §12.8.2.2,
        // Table 254): a signature added after it makes the document fail
        // (modified_after_signing), so it is refused here instead of written.
        let certified = fields::docmdp_signature(&doc);
        if existing
            .iter()
            .any(|f| f.value_id.is_some() && f.value_id == certified && f.docmdp == Some(1))
        {
            return Err(PdfSignError::InvalidArgument(
                "the document is certified with DocMDP level 1 (no changes allowed): a new signature would invalidate the certification".into(),
            ));
        }
        if opts.certify.is_some() && certified.is_some() {
            return Err(PdfSignError::InvalidArgument(
                "the document is already certified".into(),
            ));
        }
        let Some(Object::Reference(root)) = doc.trailer.get(b"Root").ok().cloned() else {
            return Err(PdfSignError::Malformed("the trailer has no /Root reference".into()));
        };
        let Some((_, &page)) = doc.get_pages().iter().next() else {
            return Err(PdfSignError::Malformed(
                "the document has no page to put the signature field on".into(),
            ));
        };

        let mut inc = IncrementalDocument::create_from(pdf.to_vec(), doc);
        // Keys of the previous section that do not describe the new one (a hybrid file's
        // /XRefStm; lopdf writes /Prev, /Size and, for a stream, its own keys).
        inc.new_document.trailer.remove(b"XRefStm");

        let mut sig = dictionary! {
            "Type" => "Sig",
            "Filter" => "Adobe.PPKLite",
            "SubFilter" => opts.sub_filter.name(),
            "ByteRange" => vec![Object::Integer(0), Object::Integer(RANGE_PLACEHOLDER), Object::Integer(RANGE_PLACEHOLDER), Object::Integer(RANGE_PLACEHOLDER)],
            "Contents" => Object::String(vec![0; opts.contents_size], StringFormat::Hexadecimal),
            "M" => Object::string_literal(pdf_date(opts.signing_time)?),
        };
        if let Some(r) = &opts.reason {
            sig.set("Reason", text(r));
        }
        if let Some(l) = &opts.location {
            sig.set("Location", text(l));
        }
        if let Some(n) = &opts.name {
            sig.set("Name", text(n));
        }
        let mut references = Vec::new();
        if let Some(p) = opts.certify {
            references.push(Object::Dictionary(dictionary! {
                "Type" => "SigRef",
                "TransformMethod" => "DocMDP",
                "TransformParams" => dictionary! {
                    "Type" => "TransformParams",
                    "P" => i64::from(p),
                    "V" => "1.2",
                },
            }));
        }
        if let Some(params) = lock {
            // The field's /Lock becomes this signature's FieldMDP transform (ISO 32000-1
            // §12.7.4.5 Table 233, §12.8.2.4 Table 256): other validators read the lock
            // from the signature, not from the field. /Data is required for FieldMDP
            // (Table 253) and names the catalog.
            references.push(Object::Dictionary(dictionary! {
                "Type" => "SigRef",
                "TransformMethod" => "FieldMDP",
                "TransformParams" => params,
                "Data" => Object::Reference(root),
            }));
        }
        if !references.is_empty() {
            sig.set("Reference", references);
        }
        let sig_id = inc.new_document.add_object(sig);
        let field_id = match empty_field {
            Some(id) => {
                inc.opt_clone_object_to_new_document(id)
                    .map_err(|e| PdfSignError::Malformed(format!("the field '{}': {e}", opts.field)))?;
                set_key(&mut inc, id, b"V", Object::Reference(sig_id))?;
                id
            }
            None => {
                let field_id = inc.new_document.add_object(dictionary! {
                    "FT" => "Sig",
                    "T" => text(&opts.field),
                    "V" => sig_id,
                    "Type" => "Annot",
                    "Subtype" => "Widget",
                    "Rect" => vec![0.into(), 0.into(), 0.into(), 0.into()],
                    // Print | Locked: invisible (empty rectangle), not to be moved or deleted.
                    "F" => 132,
                    "P" => page,
                });
                inc.opt_clone_object_to_new_document(page)
                    .map_err(|e| PdfSignError::Malformed(format!("the first page: {e}")))?;
                append_to_array(&mut inc, page, b"Annots", Object::Reference(field_id))?;
                field_id
            }
        };
        // A filled field is already in /Fields.
        let new_field = empty_field.is_none();

        inc.opt_clone_object_to_new_document(root)
            .map_err(|e| PdfSignError::Malformed(format!("the catalog: {e}")))?;
        let acroform = inc
            .new_document
            .get_dictionary(root)
            .map_err(|e| PdfSignError::Malformed(format!("the catalog: {e}")))?
            .get(b"AcroForm")
            .ok()
            .cloned();
        match acroform {
            Some(Object::Reference(form)) => {
                inc.opt_clone_object_to_new_document(form)
                    .map_err(|e| PdfSignError::Malformed(format!("/AcroForm: {e}")))?;
                if new_field {
                    append_to_array(&mut inc, form, b"Fields", Object::Reference(field_id))?;
                }
                set_key(&mut inc, form, b"SigFlags", Object::Integer(3))?;
            }
            Some(Object::Dictionary(mut form)) if !new_field => {
                form.set("SigFlags", 3);
                set_key(&mut inc, root, b"AcroForm", Object::Dictionary(form))?;
            }
            Some(Object::Dictionary(mut form)) => {
                match form.get_mut(b"Fields") {
                    Ok(Object::Array(a)) => a.push(Object::Reference(field_id)),
                    Ok(Object::Reference(id)) => {
                        let id = *id;
                        inc.opt_clone_object_to_new_document(id)
                            .map_err(|e| PdfSignError::Malformed(format!("/Fields: {e}")))?;
                        match inc.new_document.objects.get_mut(&id) {
                            Some(Object::Array(a)) => a.push(Object::Reference(field_id)),
                            _ => return Err(PdfSignError::Malformed("/AcroForm /Fields is not an array".into())),
                        }
                    }
                    Ok(_) => return Err(PdfSignError::Malformed("/AcroForm /Fields is not an array".into())),
                    Err(_) => form.set("Fields", vec![Object::Reference(field_id)]),
                }
                form.set("SigFlags", 3);
                set_key(&mut inc, root, b"AcroForm", Object::Dictionary(form))?;
            }
            None => {
                let form = inc.new_document.add_object(dictionary! {
                    "Fields" => vec![Object::Reference(field_id)],
                    "SigFlags" => 3,
                });
                set_key(&mut inc, root, b"AcroForm", Object::Reference(form))?;
            }
            Some(_) => return Err(PdfSignError::Malformed("/AcroForm is not a dictionary".into())),
        }
        if opts.certify.is_some() {
            set_key(
                &mut inc,
                root,
                b"Perms",
                Object::Dictionary(dictionary! { "DocMDP" => sig_id }),
            )?;
        }

        // lopdf escapes a literal string by looking each byte up in the list of positions to
        // escape (quadratic): a page of the input holding a megabyte of backslashes or
        // parentheses would stall the signer. The same bytes as a hex string are written in
        // linear time and read back identically (ISO 32000-1 §7.3.4).
        for object in inc.new_document.objects.values_mut() {
            hex_strings_needing_escapes(object, 0);
        }
        let mut bytes = Vec::with_capacity(pdf.len() + 2 * opts.contents_size + 4096);
        inc.save_to(&mut bytes)
            .map_err(|e| PdfSignError::Malformed(format!("the update could not be written: {e}")))?;
        // The original is kept byte for byte; the update follows it.
        if bytes.get(..pdf.len()) != Some(pdf) {
            return Err(PdfSignError::Malformed(
                "the update did not keep the original bytes".into(),
            ));
        }
        bytes.push(b'\n');
        // Find the placeholders inside the signature dictionary. The update also holds copies
        // of the input's page, catalog and form objects, which may carry a decoy /ByteRange
        // or a hex string of zeros of the placeholder's size: those come first (lopdf writes
        // objects by number, and the new ones are numbered after every object of the input),
        // so the search starts at the signature object's header, the last one in the objects
        // govsig wrote (what follows it, the field and form objects, holds no line break
        // before the cross-reference section); its /ByteRange and /Contents are its first keys.
        let xref_start = last_startxref(&bytes)
            .filter(|&x| x > pdf.len())
            .ok_or_else(|| PdfSignError::Malformed("the update was not written with a startxref".into()))?;
        let header = format!("\n{} {} obj\n", sig_id.0, sig_id.1).into_bytes();
        let tail_start = memchr::memmem::rfind(&bytes[pdf.len() - 1..xref_start], &header)
            .map(|i| i + pdf.len() - 1)
            .ok_or_else(|| PdfSignError::Malformed("the signature dictionary was not written as expected".into()))?;
        let mut hex = Vec::with_capacity(2 * opts.contents_size + 2);
        hex.push(b'<');
        hex.resize(1 + 2 * opts.contents_size, b'0');
        hex.push(b'>');
        let a = memchr::memmem::find(&bytes[tail_start..], &hex)
            .map(|i| i + tail_start)
            .ok_or_else(|| PdfSignError::Malformed("the /Contents placeholder was not written as expected".into()))?;
        let b = a + hex.len();
        let br_key = memchr::memmem::find(&bytes[tail_start..], b"/ByteRange")
            .map(|i| i + tail_start)
            .ok_or_else(|| PdfSignError::Malformed("the /ByteRange placeholder was not written as expected".into()))?;
        let open = br_key
            + memchr::memchr(b'[', &bytes[br_key..])
                .ok_or_else(|| PdfSignError::Malformed("the /ByteRange placeholder has no array".into()))?;
        let close = open
            + memchr::memchr(b']', &bytes[open..])
                .ok_or_else(|| PdfSignError::Malformed("the /ByteRange placeholder has no array end".into()))?;
        let c = bytes.len() - b;
        let mut range = format!("[0 {a} {b} {c}").into_bytes();
        let width = close - open;
        if range.len() > width {
            return Err(PdfSignError::Malformed(
                "the /ByteRange does not fit its placeholder".into(),
            ));
        }
        range.resize(width, b' ');
        bytes[open..close].copy_from_slice(&range);
        Ok(PreparedPdf {
            bytes,
            sub_filter: opts.sub_filter,
            signing_time: opts.signing_time,
            byte_range: [0, a, b, c],
        })
    }

    /// `[0, a, b, c]` as written in /ByteRange.
    pub fn byte_range(&self) -> [usize; 4] {
        self.byte_range
    }

    /// Bytes the CMS may take.
    pub fn capacity(&self) -> usize {
        (self.byte_range[2] - self.byte_range[1] - 2) / 2
    }

    /// The two signed ranges.
    pub fn ranges(&self) -> [&[u8]; 2] {
        let [_, a, b, _] = self.byte_range;
        [&self.bytes[..a], &self.bytes[b..]]
    }

    /// The CMS over the ranges: detached; no signingTime for PAdES B-B, the signingTime of
    /// /M for adbe.pkcs7.detached.
    pub fn sign(&self, signer: &CmsSigner, options: &SignOptions) -> Result<Vec<u8>, SignError> {
        let mut o = options.clone();
        o.detached = true;
        o.signing_time_attribute = self.sub_filter == PdfSubFilter::Pkcs7Detached;
        if o.signing_time_attribute {
            o.signing_time = Some(self.signing_time);
        }
        signer.sign_parts(&self.ranges(), &o)
    }

    /// The signed PDF, with `cms` in /Contents followed by zero padding.
    pub fn finish(mut self, cms: &[u8]) -> Result<Vec<u8>, PdfSignError> {
        let available = self.capacity();
        if cms.len() > available {
            return Err(PdfSignError::PlaceholderTooSmall {
                needed: cms.len(),
                available,
            });
        }
        let start = self.byte_range[1] + 1;
        let h = hex::encode_upper(cms);
        self.bytes[start..start + h.len()].copy_from_slice(h.as_bytes());
        Ok(self.bytes)
    }
}

/// Rewrites, in `object` and what it holds, each literal string that lopdf would have to
/// escape as a hex string. Depth is bounded like the parser's nesting.
fn hex_strings_needing_escapes(object: &mut Object, depth: usize) {
    if depth > 256 {
        return;
    }
    match object {
        Object::String(bytes, format @ StringFormat::Literal)
            if bytes.iter().any(|b| matches!(b, b'(' | b')' | b'\\' | b'\r')) =>
        {
            *format = StringFormat::Hexadecimal;
        }
        Object::Array(items) => items.iter_mut().for_each(|o| hex_strings_needing_escapes(o, depth + 1)),
        Object::Dictionary(d) => d
            .iter_mut()
            .for_each(|(_, o)| hex_strings_needing_escapes(o, depth + 1)),
        Object::Stream(s) => s
            .dict
            .iter_mut()
            .for_each(|(_, o)| hex_strings_needing_escapes(o, depth + 1)),
        _ => {}
    }
}

/// The offset named by the last `startxref` of `bytes` (the one the update ends with).
fn last_startxref(bytes: &[u8]) -> Option<usize> {
    let at = memchr::memmem::rfind(bytes, b"startxref")? + b"startxref".len();
    let rest = &bytes[at..];
    let digits: Vec<u8> = rest
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

/// Signs `pdf` in one step (no time-stamp): prepare, sign, finish.
pub fn sign_pdf(
    pdf: &[u8],
    signer: &CmsSigner,
    opts: &PdfSignOptions,
    cms_options: &SignOptions,
) -> Result<Vec<u8>, PdfSignError> {
    let prepared = PreparedPdf::prepare(pdf, opts, &PdfLimits::default())?;
    let cms = prepared.sign(signer, cms_options)?;
    prepared.finish(&cms)
}
