//! Signature fields of one revision (ISO 32000-1 §12.7.3 field trees, §12.8.1 signature
//! dictionaries, §12.8.2.2 DocMDP), read from lopdf's object model.

use lopdf::{Dictionary, Object, ObjectId};

pub use super::lazy::Objects;

use super::revisions::PdfLimits;

/// A signature field that holds a signature value.
#[derive(Clone, Debug)]
pub struct SigField {
    /// Fully qualified field name (the /T of each ancestor, joined with '.').
    pub name: String,
    /// The field dictionary's object (None for a field written inline, which is unusual).
    pub field_id: Option<ObjectId>,
    /// The signature dictionary's object, when it is indirect (it normally is).
    pub value_id: Option<ObjectId>,
    /// /ByteRange as written (integers only; anything else makes it `None`).
    pub byte_range: Option<Vec<i64>>,
    /// /Contents, decoded (the hex string's bytes).
    pub contents: Option<Vec<u8>>,
    /// Where /Contents's hex digits lie in the file, when its value is exactly them
    /// ([`Objects::contents_span`]).
    pub contents_span: Option<std::ops::Range<usize>>,
    pub sub_filter: Option<String>,
    /// /Type /DocTimeStamp.
    pub doc_timestamp_type: bool,
    /// /M as written (a PDF date string).
    pub m: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub signer_name: Option<String>,
    /// The DocMDP transform's /P, when this signature dictionary carries one (§12.8.2.2).
    pub docmdp: Option<u8>,
    /// The fields this signature locks (a FieldMDP transform, §12.8.2.4, or the field's
    /// /Lock dictionary, §12.7.4.5 Table 233).
    pub field_lock: Option<FieldLock>,
    /// The field's /Lock /P (PDF 2.0, ISO 32000-2 Table 236): once this field is signed, the
    /// document's changes are bounded as by a DocMDP transform with that P.
    pub lock_permissions: Option<u8>,
}

/// Which fields a FieldMDP lock covers (ISO 32000-1 Table 256 /Action).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldLock {
    All,
    Include(Vec<String>),
    Exclude(Vec<String>),
}

impl FieldLock {
    pub fn covers(&self, name: &str) -> bool {
        match self {
            FieldLock::All => true,
            FieldLock::Include(v) => v.iter().any(|n| n == name),
            FieldLock::Exclude(v) => !v.iter().any(|n| n == name),
        }
    }
}

fn lock_of(doc: &dyn Objects, params: &Dictionary) -> Option<FieldLock> {
    let names = || -> Vec<String> {
        match get(doc, params, b"Fields") {
            Some(Object::Array(a)) => a
                .iter()
                .take(1024)
                .filter_map(|o| match resolve(doc, o)? {
                    Object::String(s, _) => Some(text_string(s)),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    };
    match name_of(doc, params, b"Action").as_deref() {
        Some("All") => Some(FieldLock::All),
        Some("Include") => Some(FieldLock::Include(names())),
        Some("Exclude") => Some(FieldLock::Exclude(names())),
        // An action govsig does not know locks everything: the strict reading.
        Some(_) => Some(FieldLock::All),
        None => None,
    }
}

/// The FieldMDP lock of a signature dictionary's /Reference, if any.
fn fieldmdp_of(doc: &dyn Objects, sig: &Dictionary) -> Option<FieldLock> {
    let Some(Object::Array(refs)) = get(doc, sig, b"Reference") else {
        return None;
    };
    refs.iter().take(16).find_map(|r| {
        let rd = dict(doc, r)?;
        if name_of(doc, rd, b"TransformMethod").as_deref() != Some("FieldMDP") {
            return None;
        }
        lock_of(doc, rd.get(b"TransformParams").ok().and_then(|tp| dict(doc, tp))?)
    })
}

/// Every terminal field's fully qualified name and value (/V, references followed once),
/// for comparing what a FieldMDP lock protects across revisions.
pub fn field_values(doc: &dyn Objects, limits: &PdfLimits) -> Vec<(String, Option<Object>)> {
    let mut out = Vec::new();
    let Some(form) = catalog(doc)
        .and_then(|c| c.get(b"AcroForm").ok())
        .and_then(|o| dict(doc, o))
    else {
        return out;
    };
    let Some(Object::Array(fields)) = get(doc, form, b"Fields") else {
        return out;
    };
    let mut stack: Vec<(&Object, String, usize)> = fields.iter().rev().map(|f| (f, String::new(), 0)).collect();
    let mut seen = std::collections::HashSet::new();
    let mut budget = limits.max_signatures.saturating_mul(64);
    while let Some((node, parent, depth)) = stack.pop() {
        budget = match budget.checked_sub(1) {
            Some(b) => b,
            None => break,
        };
        if depth > limits.max_depth {
            continue;
        }
        if let Object::Reference(id) = node {
            if !seen.insert(*id) {
                continue;
            }
        }
        let Some(d) = dict(doc, node) else { continue };
        let name = match (string_of(doc, d, b"T").map(|t| text_string(&t)), parent.is_empty()) {
            (Some(t), true) => t,
            (Some(t), false) => format!("{parent}.{t}"),
            (None, _) => parent.clone(),
        };
        let kids: Vec<&Object> = match get(doc, d, b"Kids") {
            Some(Object::Array(k)) => k
                .iter()
                .filter(|k| dict(doc, k).is_some_and(|kd| kd.has(b"T")))
                .collect(),
            _ => Vec::new(),
        };
        if kids.is_empty() {
            let v = d.get(b"V").ok().and_then(|v| resolve(doc, v)).cloned();
            out.push((name, v));
        } else {
            for k in kids.into_iter().rev() {
                stack.push((k, name.clone(), depth + 1));
            }
        }
    }
    out
}

/// A PDF text string (§7.9.2.2): UTF-16BE with a byte-order mark, UTF-8 with one (PDF 2.0),
/// else PDFDocEncoding, read as Latin-1 (they agree on the printable range).
pub fn text_string(b: &[u8]) -> String {
    if let Some(rest) = b.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = b.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    b.iter().map(|&c| char::from(c)).collect()
}

/// Follows references (at most a few hops: a chain of references is itself suspect).
pub fn resolve<'a>(doc: &'a dyn Objects, mut o: &'a Object) -> Option<&'a Object> {
    for _ in 0..8 {
        match o {
            Object::Reference(id) => o = doc.object(*id)?,
            other => return Some(other),
        }
    }
    None
}

pub fn dict<'a>(doc: &'a dyn Objects, o: &'a Object) -> Option<&'a Dictionary> {
    match resolve(doc, o)? {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    }
}

pub fn get<'a>(doc: &'a dyn Objects, d: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    d.get(key).ok().and_then(|o| resolve(doc, o))
}

pub fn name_of(doc: &dyn Objects, d: &Dictionary, key: &[u8]) -> Option<String> {
    match get(doc, d, key)? {
        Object::Name(n) => Some(String::from_utf8_lossy(n).into_owned()),
        _ => None,
    }
}

fn string_of(doc: &dyn Objects, d: &Dictionary, key: &[u8]) -> Option<Vec<u8>> {
    match get(doc, d, key)? {
        Object::String(s, _) => Some(s.clone()),
        _ => None,
    }
}

/// The document catalog.
pub fn catalog(doc: &dyn Objects) -> Option<&Dictionary> {
    dict(doc, doc.trailer().get(b"Root").ok()?)
}

/// The DocMDP level of a signature dictionary's /Reference (§12.8.2.2: /P defaults to 2).
fn docmdp_of(doc: &dyn Objects, sig: &Dictionary) -> Option<u8> {
    let Some(Object::Array(refs)) = get(doc, sig, b"Reference") else {
        return None;
    };
    for r in refs.iter().take(16) {
        let Some(rd) = dict(doc, r) else { continue };
        if name_of(doc, rd, b"TransformMethod").as_deref() != Some("DocMDP") {
            continue;
        }
        let p = rd
            .get(b"TransformParams")
            .ok()
            .and_then(|tp| dict(doc, tp))
            .and_then(|tp| match get(doc, tp, b"P") {
                Some(Object::Integer(p)) => Some(*p),
                _ => None,
            })
            .unwrap_or(2);
        // Values other than 1..3 are not defined; the strictest level is the safe reading.
        return Some(u8::try_from(p).ok().filter(|p| (1..=3).contains(p)).unwrap_or(1));
    }
    None
}

/// The signature dictionary the catalog's /Perms /DocMDP names (the certification
/// signature), when there is one.
pub fn docmdp_signature(doc: &dyn Objects) -> Option<ObjectId> {
    let perms = get(doc, catalog(doc)?, b"Perms")?;
    let perms = match perms {
        Object::Dictionary(d) => d,
        _ => return None,
    };
    match perms.get(b"DocMDP").ok()? {
        Object::Reference(id) => Some(*id),
        _ => None,
    }
}

/// Every terminal field of the AcroForm field tree whose type is /Sig and that has a
/// value, in tree order. `Err` when the tree exceeds the limits.
pub fn signature_fields(doc: &dyn Objects, limits: &PdfLimits) -> Result<Vec<SigField>, String> {
    let mut out = Vec::new();
    let Some(cat) = catalog(doc) else {
        let why = match doc.trailer().get(b"Root") {
            Ok(Object::Reference(id)) => doc
                .unreadable(*id)
                .map(|e| format!("the document catalog (/Root {} {} R) does not read: {e}", id.0, id.1)),
            _ => None,
        };
        return Err(why.unwrap_or_else(|| "the trailer names no document catalog (/Root)".into()));
    };
    let Some(form) = cat.get(b"AcroForm").ok().and_then(|o| dict(doc, o)) else {
        return Ok(out);
    };
    let Some(Object::Array(fields)) = get(doc, form, b"Fields") else {
        return Ok(out);
    };
    let mut visited = std::collections::HashSet::new();
    let mut budget = limits.max_signatures.saturating_mul(64);
    for f in fields {
        walk(doc, f, None, "", 0, limits, &mut visited, &mut budget, &mut out)?;
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn walk(
    doc: &dyn Objects,
    node: &Object,
    inherited_ft: Option<&str>,
    parent_name: &str,
    depth: usize,
    limits: &PdfLimits,
    visited: &mut std::collections::HashSet<ObjectId>,
    budget: &mut usize,
    out: &mut Vec<SigField>,
) -> Result<(), String> {
    if depth > limits.max_depth {
        return Err(format!("the form field tree is deeper than {}", limits.max_depth));
    }
    *budget = budget
        .checked_sub(1)
        .ok_or_else(|| "the form field tree has too many nodes".to_string())?;
    let field_id = match node {
        Object::Reference(id) => {
            // A field tree with a cycle (a /Kids entry naming an ancestor) is read once.
            if !visited.insert(*id) {
                return Ok(());
            }
            Some(*id)
        }
        _ => None,
    };
    let Some(d) = dict(doc, node) else { return Ok(()) };
    let partial = string_of(doc, d, b"T").map(|t| text_string(&t));
    let name = match (&partial, parent_name.is_empty()) {
        (Some(t), true) => t.clone(),
        (Some(t), false) => format!("{parent_name}.{t}"),
        (None, _) => parent_name.to_string(),
    };
    let ft_own = name_of(doc, d, b"FT");
    let ft = ft_own.as_deref().or(inherited_ft);
    // Kids that are fields (they have /T) make this a non-terminal field; kids that are
    // only widgets do not.
    if let Some(Object::Array(kids)) = get(doc, d, b"Kids") {
        let field_kids: Vec<&Object> = kids
            .iter()
            .filter(|k| dict(doc, k).is_some_and(|kd| kd.has(b"T")))
            .collect();
        if !field_kids.is_empty() {
            for k in field_kids {
                walk(doc, k, ft, &name, depth + 1, limits, visited, budget, out)?;
            }
            return Ok(());
        }
    }
    if ft != Some("Sig") {
        return Ok(());
    }
    let Some(v) = d.get(b"V").ok() else { return Ok(()) };
    let value_id = match v {
        Object::Reference(id) => Some(*id),
        _ => None,
    };
    if out.len() >= limits.max_signatures {
        return Err(format!("more than {} signature fields", limits.max_signatures));
    }
    let Some(sig) = dict(doc, v) else {
        // A signed field whose signature dictionary cannot be read (e.g. a /ByteRange number
        // too large for the parser made the object unreadable): a signature that fails, not
        // an unsigned document (it read `no_signature`).
        if value_id.is_some() {
            out.push(SigField {
                name,
                field_id,
                value_id,
                byte_range: None,
                contents: None,
                contents_span: None,
                sub_filter: None,
                doc_timestamp_type: false,
                m: None,
                reason: None,
                location: None,
                signer_name: None,
                docmdp: None,
                field_lock: None,
                lock_permissions: None,
            });
        }
        return Ok(());
    };
    let byte_range = match get(doc, sig, b"ByteRange") {
        Some(Object::Array(a)) => a
            .iter()
            .map(|x| match x {
                Object::Integer(i) => Some(*i),
                _ => None,
            })
            .collect::<Option<Vec<i64>>>(),
        _ => None,
    };
    out.push(SigField {
        name,
        field_id,
        value_id,
        byte_range,
        contents: string_of(doc, sig, b"Contents"),
        contents_span: value_id.and_then(|id| doc.contents_span(id)),
        sub_filter: name_of(doc, sig, b"SubFilter"),
        doc_timestamp_type: name_of(doc, sig, b"Type").as_deref() == Some("DocTimeStamp"),
        m: string_of(doc, sig, b"M").map(|s| text_string(&s)),
        reason: string_of(doc, sig, b"Reason").map(|s| text_string(&s)),
        location: string_of(doc, sig, b"Location").map(|s| text_string(&s)),
        signer_name: string_of(doc, sig, b"Name").map(|s| text_string(&s)),
        docmdp: docmdp_of(doc, sig),
        field_lock: fieldmdp_of(doc, sig).or_else(|| {
            d.get(b"Lock")
                .ok()
                .and_then(|l| dict(doc, l))
                .and_then(|l| lock_of(doc, l))
        }),
        lock_permissions: d
            .get(b"Lock")
            .ok()
            .and_then(|l| dict(doc, l))
            .and_then(|l| match get(doc, l, b"P")? {
                // Values other than 1..3 are not defined; the strictest level is the safe reading.
                Object::Integer(p) => Some(u8::try_from(*p).ok().filter(|p| (1..=3).contains(p)).unwrap_or(1)),
                _ => Some(1),
            }),
    });
    Ok(())
}
