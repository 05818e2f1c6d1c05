//! What an incremental update changed, classified conservatively (ISO 32000-1 §12.8.2.2
//! DocMDP levels; ETSI EN 319 142-1 §5.4 for LTV additions).
//!
//! The diff is object by object between the revision before and the revision after: an
//! object that is new can only matter through an existing object that now refers to it, so
//! only changed (and removed) objects are classified, by what they are and which of their
//! keys changed. Anything not recognised as one of the permitted kinds is `Other`: page
//! content, new or replaced pages, fonts, XObjects, a changed signature value, a different
//! catalog. That closes the incremental-saving and shadow attacks (Mainka et al.): a revision
//! that swaps what a page shows has to change a page, its resources or a stream it draws.

use std::collections::HashSet;

use lopdf::{Dictionary, Object, ObjectId};

use super::fields::{catalog, dict, get, name_of, Objects};
use super::lazy::{Doc, Entry};

/// What later revisions did, from the least to the most: a signature's modification is the
/// largest over the revisions that follow it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Modification {
    None,
    /// A DSS (validation data) and document time-stamps added (with the metadata and
    /// document information updates that come with any incremental save).
    LtvOnly,
    /// Form fields filled, signature fields signed, appearances regenerated, metadata.
    FormFill,
    /// Annotations added or changed.
    Annotations,
    Other,
}

impl Modification {
    pub fn name(self) -> &'static str {
        match self {
            Modification::None => "none",
            Modification::LtvOnly => "ltv_only",
            Modification::FormFill => "form_fill",
            Modification::Annotations => "annotations",
            Modification::Other => "other",
        }
    }

    /// The most a DocMDP level permits after the certification (§12.8.2.2 Table 254); LTV
    /// additions are permitted at every level (ETSI EN 319 142-1 §5.4).
    pub fn allowed_by_docmdp(p: u8) -> Modification {
        match p {
            1 => Modification::LtvOnly,
            2 => Modification::FormFill,
            _ => Modification::Annotations,
        }
    }
}

/// Two objects are the same when they would read the same (a stream's position in the
/// file does not count: an unchanged object may be read from a different offset).
fn same(a: &Object, b: &Object) -> bool {
    match (a, b) {
        (Object::Stream(x), Object::Stream(y)) => x.dict == y.dict && x.content == y.content,
        _ => a == b,
    }
}

/// Objects reachable from `root` in `doc` (bounded walk).
fn reachable(doc: &dyn Objects, root: &Object, limit: usize) -> HashSet<ObjectId> {
    let mut seen = HashSet::new();
    let mut stack: Vec<&Object> = vec![root];
    while let Some(o) = stack.pop() {
        if seen.len() >= limit {
            break;
        }
        match o {
            Object::Reference(id) if seen.insert(*id) => {
                if let Some(t) = doc.object(*id) {
                    stack.push(t);
                }
            }
            Object::Array(a) => stack.extend(a.iter()),
            Object::Dictionary(d) => stack.extend(d.iter().map(|(_, v)| v)),
            Object::Stream(s) => stack.extend(s.dict.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    seen
}

/// Keys whose values differ between two dictionaries (missing on one side counts).
fn changed_keys(a: &Dictionary, b: &Dictionary) -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = Vec::new();
    for (k, v) in a.iter() {
        if b.get(k).map_or(true, |w| !same(v, w)) {
            keys.push(k.clone());
        }
    }
    for (k, _) in b.iter() {
        if !a.has(k) {
            keys.push(k.clone());
        }
    }
    keys
}

/// Whether a signature dictionary (new in `after`) is a document time-stamp.
fn is_doc_timestamp(after: &dyn Objects, sig: &Dictionary) -> bool {
    name_of(after, sig, b"Type").as_deref() == Some("DocTimeStamp")
        || name_of(after, sig, b"SubFilter").as_deref() == Some("ETSI.RFC3161")
}

/// What a field that is new in `after` amounts to: a signature field that holds a document
/// time-stamp is an LTV addition, one with a signature or none is the signing kind of form
/// fill; any other new field is `Other` (adding form fields goes beyond filling them).
fn new_field_kind(after: &dyn Objects, field: &Object) -> Modification {
    let Some(d) = dict(after, field) else {
        return Modification::Other;
    };
    if name_of(after, d, b"FT").as_deref() != Some("Sig") {
        return Modification::Other;
    }
    match d.get(b"V").ok().and_then(|v| dict(after, v)) {
        Some(sig) if is_doc_timestamp(after, sig) => Modification::LtvOnly,
        _ => Modification::FormFill,
    }
}

/// The class of a changed array of references (/Fields, /Annots): elements may only be
/// appended; each appended element is classified by `kind`.
fn appended(before: &[Object], after: &[Object], kind: impl Fn(&Object) -> Modification) -> Modification {
    if after.len() < before.len() || !before.iter().zip(after).all(|(a, b)| same(a, b)) {
        return Modification::Other;
    }
    after[before.len()..]
        .iter()
        .map(kind)
        .max()
        .unwrap_or(Modification::None)
}

fn array<'a>(doc: &'a dyn Objects, d: &'a Dictionary, key: &[u8]) -> Option<&'a [Object]> {
    match get(doc, d, key) {
        Some(Object::Array(a)) => Some(a.as_slice()),
        None => Some(&[]),
        _ => None,
    }
}

/// An annotation new on a page: a widget of a new signature field counts as that field;
/// a widget of anything else as a form change; any other annotation as an annotation.
fn new_annotation_kind(after: &dyn Objects, annot: &Object) -> Modification {
    let Some(d) = dict(after, annot) else {
        return Modification::Other;
    };
    if name_of(after, d, b"Subtype").as_deref() == Some("Widget") {
        // A widget merged with its field, or pointing at it through /Parent.
        if d.has(b"FT") {
            return new_field_kind(after, annot);
        }
        if let Ok(parent) = d.get(b"Parent") {
            return new_field_kind(after, parent);
        }
        return Modification::Other;
    }
    Modification::Annotations
}

/// Classifies one changed object.
fn changed_object(
    id: ObjectId,
    before: &dyn Objects,
    after: &dyn Objects,
    a: &Object,
    b: &Object,
    ctx: &Context,
) -> Modification {
    if ctx.dss_before.contains(&id) {
        return Modification::LtvOnly;
    }
    let (Some(da), Some(db)) = (dict_of(a), dict_of(b)) else {
        // An indirect array: /Fields or a page's /Annots written as its own object.
        if let (Object::Array(x), Object::Array(y)) = (a, b) {
            if ctx.fields_arrays.contains(&id) {
                return appended(x, y, |f| new_field_kind(after, f));
            }
            if ctx.annots_arrays.contains(&id) {
                return appended(x, y, |n| new_annotation_kind(after, n));
            }
        }
        return Modification::Other;
    };
    if matches!((a, b), (Object::Stream(_), _) | (_, Object::Stream(_))) {
        // The XMP metadata stream is rewritten by many signers and time-stampers; it is
        // never drawn, so it ranks with the LTV additions.
        if ctx.metadata == Some(id) {
            return Modification::LtvOnly;
        }
        return Modification::Other;
    }
    let keys = changed_keys(da, db);
    let mut worst = Modification::None;
    let mut bump = |m: Modification| worst = worst.max(m);
    if Some(id) == ctx.catalog {
        for k in &keys {
            match k.as_slice() {
                // Validation data, and the developer extensions and version that declare
                // it (ISO 32000-2 names PAdES features by extension level).
                b"DSS" | b"Extensions" | b"Version" => bump(Modification::LtvOnly),
                b"AcroForm" => match (da.get(b"AcroForm").ok(), db.get(b"AcroForm").ok()) {
                    // Adding a form (to hold the first signature field) is a form change.
                    (None, Some(f)) => bump(match dict(after, f).and_then(|f| array(after, f, b"Fields")) {
                        Some(fields) => appended(&[], fields, |f| new_field_kind(after, f)),
                        None => Modification::Other,
                    }),
                    (Some(x), Some(y)) => match (dict(before, x), dict(after, y)) {
                        (Some(fx), Some(fy)) => bump(acroform(before, after, fx, fy)),
                        _ => bump(Modification::Other),
                    },
                    _ => bump(Modification::Other),
                },
                b"Metadata" => bump(Modification::LtvOnly),
                _ => bump(Modification::Other),
            }
        }
        return worst;
    }
    if ctx.acroform == Some(id) {
        return acroform(before, after, da, db);
    }
    // The document information dictionary (ModDate, Producer) is updated by every
    // incremental writer, time-stampers included, and is never drawn.
    if ctx.info == Some(id) {
        return Modification::LtvOnly;
    }
    let ty = name_of(before, da, b"Type");
    if ty.as_deref() == Some("Page") {
        for k in &keys {
            match k.as_slice() {
                b"Annots" => match (array(before, da, b"Annots"), array(after, db, b"Annots")) {
                    (Some(x), Some(y)) => bump(appended(x, y, |n| new_annotation_kind(after, n))),
                    _ => bump(Modification::Other),
                },
                _ => bump(Modification::Other),
            }
        }
        return worst;
    }
    let is_field = da.has(b"FT") || da.has(b"Parent") && da.has(b"T");
    let is_widget = name_of(before, da, b"Subtype").as_deref() == Some("Widget");
    if is_field || is_widget {
        let signed_already = name_of(before, da, b"FT").as_deref() == Some("Sig") && da.has(b"V");
        for k in &keys {
            match k.as_slice() {
                // A signature value, once there, is never replaced: that is the
                // signature-wrapping family of attacks.
                b"V" if signed_already => bump(Modification::Other),
                b"V" => bump(match db.get(b"V").ok().and_then(|v| dict(after, v)) {
                    Some(sig) if is_doc_timestamp(after, sig) => Modification::LtvOnly,
                    _ => Modification::FormFill,
                }),
                b"AS" | b"AP" | b"MK" | b"DV" => bump(Modification::FormFill),
                _ => bump(Modification::Other),
            }
        }
        return worst;
    }
    if da.has(b"Subtype") && name_of(before, da, b"Type").is_none_or(|t| t == "Annot") {
        return Modification::Annotations;
    }
    Modification::Other
}

fn acroform(before: &dyn Objects, after: &dyn Objects, fx: &Dictionary, fy: &Dictionary) -> Modification {
    let mut worst = Modification::None;
    for k in changed_keys(fx, fy) {
        let m = match k.as_slice() {
            b"Fields" => match (array(before, fx, b"Fields"), array(after, fy, b"Fields")) {
                (Some(x), Some(y)) => appended(x, y, |f| new_field_kind(after, f)),
                _ => Modification::Other,
            },
            b"SigFlags" => Modification::LtvOnly,
            b"NeedAppearances" | b"DR" | b"DA" => Modification::FormFill,
            _ => Modification::Other,
        };
        worst = worst.max(m);
    }
    worst
}

fn dict_of(o: &Object) -> Option<&Dictionary> {
    match o {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    }
}

/// Where the well-known objects of the revision before are.
struct Context {
    catalog: Option<ObjectId>,
    acroform: Option<ObjectId>,
    info: Option<ObjectId>,
    metadata: Option<ObjectId>,
    dss_before: HashSet<ObjectId>,
    fields_arrays: HashSet<ObjectId>,
    annots_arrays: HashSet<ObjectId>,
}

fn reference(d: &Dictionary, key: &[u8]) -> Option<ObjectId> {
    match d.get(key).ok()? {
        Object::Reference(id) => Some(*id),
        _ => None,
    }
}

/// The page objects of a revision: its page tree walked from the catalog's /Pages,
/// bounded in depth and count.
fn pages(doc: &dyn Objects, max_depth: usize, limit: usize) -> Vec<ObjectId> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let Some(Object::Reference(root)) = catalog(doc).and_then(|c| c.get(b"Pages").ok()) else {
        return out;
    };
    let mut stack = vec![(*root, 0usize)];
    while let Some((id, depth)) = stack.pop() {
        if depth > max_depth || seen.len() >= limit || !seen.insert(id) {
            continue;
        }
        let Some(d) = doc.object(id).and_then(|o| dict_of(o)) else {
            continue;
        };
        match get(doc, d, b"Kids") {
            Some(Object::Array(kids)) if name_of(doc, d, b"Type").as_deref() != Some("Page") => {
                stack.extend(
                    kids.iter()
                        .filter_map(|k| k.as_reference().ok())
                        .map(|k| (k, depth + 1)),
                );
            }
            _ => out.push(id),
        }
    }
    out
}

/// Whether object `id` may read differently in `after` than in `before`: its
/// cross-reference entry changed, or it lies in an object stream that was rewritten.
fn may_differ(before: &Doc<'_>, after: &Doc<'_>, id: u32, entry: Entry) -> bool {
    let now = after.entry(id);
    if now != Some(entry) {
        return true;
    }
    match entry {
        Entry::Compressed { container, .. } => after.entry(container) != before.entry(container),
        _ => false,
    }
}

/// Classifies the update from `before` to `after` (consecutive revisions).
pub fn classify(before: &Doc<'_>, after: &Doc<'_>, max_objects: usize) -> Modification {
    let catalog_id = reference(before.trailer(), b"Root");
    if catalog_id != reference(after.trailer(), b"Root")
        || before.trailer().get(b"Encrypt").ok() != after.trailer().get(b"Encrypt").ok()
    {
        return Modification::Other;
    }
    let cat = catalog(before);
    let acroform = cat.and_then(|c| reference(c, b"AcroForm"));
    let mut fields_arrays = HashSet::new();
    if let Some(f) = cat.and_then(|c| c.get(b"AcroForm").ok()).and_then(|f| dict(before, f)) {
        fields_arrays.extend(reference(f, b"Fields"));
    }
    let mut annots_arrays = HashSet::new();
    for page in pages(before, 64, max_objects) {
        if let Some(p) = before.object(page).and_then(dict_of) {
            annots_arrays.extend(reference(p, b"Annots"));
        }
    }
    let dss_before = cat
        .and_then(|c| c.get(b"DSS").ok())
        .map(|d| reachable(before, d, max_objects))
        .unwrap_or_default();
    let ctx = Context {
        catalog: catalog_id,
        acroform,
        info: reference(before.trailer(), b"Info"),
        metadata: cat.and_then(|c| reference(c, b"Metadata")),
        dss_before,
        fields_arrays,
        annots_arrays,
    };
    let mut worst = Modification::None;
    // Only objects whose entry changed can read differently: the others are the same
    // bytes of the file (or of the same object stream).
    for (num, entry) in before.entries() {
        let gen = match entry {
            Entry::Free => continue,
            Entry::InFile { gen, .. } => gen,
            Entry::Compressed { .. } => 0,
        };
        if !may_differ(before, after, num, entry) {
            continue;
        }
        let id = (num, gen);
        match (before.object(id), after.object(id)) {
            // An object the revision before could not read is not classified: `Other`.
            (None, _) => return Modification::Other,
            // Freeing an object that is still referred to changes what is shown; freeing
            // one that nothing refers to changes nothing, but telling the two apart needs a
            // reachability proof: conservatively, any removal is `Other` (and so is an
            // object the later revision cannot read).
            (Some(_), None) => return Modification::Other,
            (Some(a), Some(b)) if !same(a, b) => {
                worst = worst.max(changed_object(id, before, after, a, b, &ctx));
                if worst == Modification::Other {
                    return worst;
                }
            }
            (Some(_), Some(_)) => {}
        }
    }
    worst
}
