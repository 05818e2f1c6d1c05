//! One revision of a PDF read lazily: its cross-reference chain when it is opened, then
//! only the objects asked for, each parsed once.
//!
//! Objects and cross-reference sections are parsed by pdf-rs (`pdf` crate, its public
//! lexer and parser functions); what is ours is the resolver around them, which is where
//! a verifier must be strict:
//! - an object is read only at the offset its revision's cross-reference data gives, and
//!   must be `N G obj` with the number and generation asked for (no searching, no repair);
//! - every offset lies inside the revision (the file's prefix ending at its `%%EOF`);
//! - a compressed object must be listed under its own number in its object stream's header;
//! - cross-reference and object streams are inflated under a size cap, and a cross-reference
//!   stream's dimensions are checked before its entries are read (memory stays bounded);
//! - a `/Prev` chain may not loop, and the number of sections and objects is capped.
//!
//! Objects are handed out in lopdf's object model (`lopdf::Object`), which the rest of the
//! PDF layer and the signer (lopdf writes signed revisions) share. A stream's bytes are
//! copied out of the file only when that stream is asked for: a 5 MiB scan that nothing
//! looks at is never touched. A signature's /Contents hex string is decoded without pdf-rs's
//! byte-at-a-time lexer (it is half the bytes a verifier parses, mostly zero padding).
//!
//! lopdf's full parse of every object of every revision needed was the largest cost of
//! verifying a signed PDF after SHA-256 itself (issue 14's profile).

use std::cell::{Cell, OnceCell, RefCell};
// foldhash: the keys are object numbers and offsets a file chooses; foldhash's RandomState
// is seeded at random (a file cannot plan collisions) and it is several times faster than
// SipHash on such small keys.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::io::Read;
use std::ops::Range;
use std::rc::Rc;
use std::sync::Arc;

use datasize::DataSize;
use lopdf::{Dictionary, Object, ObjectId, StringFormat};
use pdf::enc::{decode, StreamFilter};
use pdf::error::{PdfError, Result as PResult};
use pdf::object::{Object as PObject, ParseOptions, PlainRef, RcRef, Ref, Resolve};
use pdf::parser::{parse, parse_indirect_object, parse_with_lexer, read_xref_and_trailer_at, Lexer, ParseFlags};
use pdf::primitive::{Dictionary as PDict, Primitive};
use pdf::xref::XRef;

use super::revisions::PdfLimits;

/// Where an object of a revision is, by its cross-reference entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// Listed as free.
    Free,
    /// At this offset in the file, with this generation.
    InFile { pos: usize, gen: u16 },
    /// At this index of the object stream numbered `container`.
    Compressed { container: u32, index: usize },
}

/// Read access to a PDF's objects: lopdf's `Document` (the signer's) and a lazily read
/// revision ([`Doc`], the verifier's) both give it.
pub trait Objects {
    /// The object numbered `id`, if it is in use and reads.
    fn object(&self, id: ObjectId) -> Option<&Object>;
    /// The trailer dictionary.
    fn trailer(&self) -> &Dictionary;
    /// Why object `id`, in use, does not read (`None` when it reads or is not in use).
    fn unreadable(&self, _id: ObjectId) -> Option<String> {
        None
    }
    /// Where the hex digits of dictionary `id`'s /Contents lie in the file, when its value
    /// is exactly those digits read a pair per byte (no whitespace, an even count): this
    /// spares the verifier decoding them again to compare them with the /ByteRange gap.
    /// `None` when unknown (the verifier then compares).
    fn contents_span(&self, _id: ObjectId) -> Option<Range<usize>> {
        None
    }
}

impl Objects for lopdf::Document {
    fn object(&self, id: ObjectId) -> Option<&Object> {
        self.objects.get(&id)
    }
    fn trailer(&self) -> &Dictionary {
        &self.trailer
    }
}

struct Slot {
    entry: Entry,
    /// The object once asked for, or why it does not read.
    object: OnceCell<Result<Loaded, String>>,
}

/// A decoded object stream: its data and, per index, the object number and byte range.
struct ObjStm {
    data: Vec<u8>,
    objects: Vec<(u32, Range<usize>)>,
}

/// A cross-reference section as read: its entries, its trailer, and where its reading
/// ended (a shorter prefix than that cannot reuse it).
struct Section {
    entries: Vec<(u32, Entry)>,
    trailer: PDict,
    /// The trailer in lopdf's model (what a revision whose newest section this is shows).
    lopdf_trailer: Dictionary,
    end: usize,
}

/// An object read at an offset: (offset, number, generation).
type SharedKey = (usize, u32, u16);

/// An object as handed out, with where its /Contents hex digits lie in the file when our
/// decoder read them there (see [`Objects::contents_span`]).
#[derive(Clone)]
struct Loaded {
    object: Rc<Object>,
    contents_span: Option<Range<usize>>,
}

/// An object as parsed: pdf-rs's primitive; for a dictionary whose /Contents is a hex
/// string, that string decoded by us; for an object in the file, where its `endobj` ends.
struct Parsed {
    primitive: Primitive,
    /// The decoded /Contents and, when they are its bytes a pair each, the file range of
    /// its digits.
    contents: Option<(Vec<u8>, Option<Range<usize>>)>,
    end: Option<usize>,
}

/// What the revisions of one file share: the cross-reference sections read at each offset
/// and the objects (not streams) read at each offset. Revision k's chain is revision k+1's
/// minus its newest section, and most objects are the same bytes in every revision, so each
/// is read once per file. A shared read is reused only by a revision whose prefix holds all
/// the bytes it read (an object is the same bytes in any prefix that contains it).
#[derive(Default)]
pub struct Shared {
    sections: RefCell<HashMap<usize, Rc<Section>>>,
    /// Cross-reference entries read for the file so far, over every section of every
    /// revision: bounded (see [`section`]), so that many sections each listing the most
    /// objects a revision may have cannot take the memory a huge file would.
    entries_read: Cell<usize>,
    /// Objects listed by the revisions opened so far (bounded: see [`Doc::open`]).
    slots_opened: Cell<usize>,
    /// The first of govsig's bounds the file went past while being read, if any.
    exceeded: RefCell<Option<String>>,
    objects: RefCell<HashMap<SharedKey, (Loaded, usize)>>,
}

/// One revision of a PDF: the file's prefix ending at the revision's `%%EOF`, read through
/// the cross-reference chain that starts at its `startxref`.
pub struct Doc<'p> {
    shared: &'p Shared,
    data: &'p [u8],
    /// The newest cross-reference section (its trailer is the revision's).
    newest: Rc<Section>,
    slots: HashMap<u32, Slot>,
    object_streams: RefCell<HashMap<u32, Option<Rc<ObjStm>>>>,
    max_decompressed: usize,
    /// Objects being parsed (an indirect /Length that refers back is refused, not followed).
    depth: Cell<usize>,
}

/// A pdf-rs error as one line a person can act on: its innermost cause (pdf-rs wraps each
/// step in a `Try` that names its own source file and line), whitespace folded.
pub fn describe(e: &PdfError) -> String {
    let mut e = e;
    while let PdfError::Try { source, .. } = e {
        e = source;
    }
    e.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}

fn other(msg: impl Into<String>) -> PdfError {
    PdfError::Other { msg: msg.into() }
}

impl Shared {
    /// Records that the file went past one of govsig's bounds (`msg` says which) and
    /// returns it as the error of the read that found it.
    fn over(&self, msg: String) -> PdfError {
        self.exceeded.borrow_mut().get_or_insert_with(|| msg.clone());
        other(msg)
    }

    /// The first bound the file went past, if any. A file beyond govsig's bounds is refused
    /// as a whole: a revision that could not be opened for that reason is never quietly left
    /// out (as a marker quoted inside some object is), which would hide what it holds.
    pub fn exceeded(&self) -> Option<String> {
        self.exceeded.borrow().clone()
    }
}

static STRICT: ParseOptions = ParseOptions::strict();

/// Inflates `raw` through `filters` (none, or FlateDecode with its predictor), refusing
/// output larger than `cap`: pdf-rs's own decoder has no limit, so the size is proven with
/// a bounded inflate first.
fn decode_capped(raw: &[u8], filters: &[StreamFilter], cap: usize, shared: Option<&Shared>) -> PResult<Vec<u8>> {
    match filters {
        [] => Ok(raw.to_vec()),
        // Deflate expands at most 1032:1 (zlib's technical notes): a small stream cannot
        // exceed the cap, so only a large one is inflated twice.
        [f @ StreamFilter::FlateDecode(_)] if raw.len().saturating_mul(1032) <= cap => decode(raw, f),
        [f @ StreamFilter::FlateDecode(_)] => {
            let mut sink = std::io::sink();
            let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
            let n = std::io::copy(&mut flate2::read::ZlibDecoder::new(raw).take(limit), &mut sink)
                .map_err(|e| other(format!("a compressed stream does not inflate: {}", e.kind())))?;
            if n > cap as u64 {
                let msg = format!("a compressed stream inflates to more than {cap} bytes");
                return Err(match shared {
                    Some(s) => s.over(msg),
                    None => other(msg),
                });
            }
            decode(raw, f)
        }
        _ => Err(other(
            "a cross-reference or object stream uses a filter other than FlateDecode",
        )),
    }
}

/// The resolver pdf-rs is given while cross-reference data is read: nothing to resolve yet.
struct Raw<'a> {
    data: &'a [u8],
    cap: usize,
    shared: Option<&'a Shared>,
}

impl Resolve for Raw<'_> {
    fn resolve_flags(&self, _: PlainRef, _: ParseFlags, _: usize) -> PResult<Primitive> {
        Err(other("a cross-reference stream's dictionary refers to another object"))
    }
    fn get<T: PObject + DataSize>(&self, _: Ref<T>) -> PResult<RcRef<T>> {
        Err(PdfError::Reference)
    }
    fn options(&self) -> &ParseOptions {
        &STRICT
    }
    fn stream_data(&self, _: PlainRef, range: Range<usize>) -> PResult<Arc<[u8]>> {
        Ok(self.data.get(range).ok_or(PdfError::EOF)?.into())
    }
    fn get_data_or_decode(&self, _: PlainRef, range: Range<usize>, f: &[StreamFilter]) -> PResult<Arc<[u8]>> {
        Ok(decode_capped(self.data.get(range).ok_or(PdfError::EOF)?, f, self.cap, self.shared)?.into())
    }
}

/// The resolver pdf-rs is given while an object is parsed: an indirect /Length resolves
/// in the same revision; a stream's bytes are located, not copied.
struct View<'d, 'p> {
    doc: &'d Doc<'p>,
    last_range: Cell<Option<Range<usize>>>,
}

impl Resolve for View<'_, '_> {
    fn resolve_flags(&self, r: PlainRef, _: ParseFlags, _: usize) -> PResult<Primitive> {
        self.doc.primitive(r)
    }
    fn get<T: PObject + DataSize>(&self, _: Ref<T>) -> PResult<RcRef<T>> {
        Err(PdfError::Reference)
    }
    fn options(&self) -> &ParseOptions {
        &STRICT
    }
    fn stream_data(&self, _: PlainRef, range: Range<usize>) -> PResult<Arc<[u8]>> {
        self.last_range.set(Some(range));
        Ok(Arc::from(&[][..]))
    }
    fn get_data_or_decode(&self, _: PlainRef, range: Range<usize>, f: &[StreamFilter]) -> PResult<Arc<[u8]>> {
        let raw = self.doc.data.get(range).ok_or(PdfError::EOF)?;
        Ok(decode_capped(raw, f, self.doc.max_decompressed, Some(self.doc.shared))?.into())
    }
}

fn is_pdf_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

/// Whether a classic cross-reference table (`xref`, after any whitespace) starts at `at`.
fn is_table(data: &[u8], at: usize) -> bool {
    data.get(at..)
        .map(|d| d.iter().position(|&b| !is_pdf_ws(b)).map_or(d, |i| &d[i..]))
        .is_some_and(|d| d.starts_with(b"xref"))
}

/// Checks a cross-reference stream's dictionary before pdf-rs reads its entries: /W of
/// three widths of at most 8 bytes, not all zero, and at most `max_objects` entries.
fn check_xref_stream(data: &[u8], at: usize, limits: &PdfLimits, shared: &Shared) -> PResult<()> {
    let mut lx = Lexer::with_offset(&data[at..], at);
    let (_, p) = parse_indirect_object(
        &mut lx,
        &Raw {
            data,
            cap: 0,
            shared: None,
        },
        None,
        ParseFlags::STREAM | ParseFlags::DICT,
    )
    .map_err(|e| {
        other(format!(
            "the cross-reference stream at offset {at} does not read: {}",
            describe(&e)
        ))
    })?;
    let d = match &p {
        Primitive::Stream(s) => &s.info,
        _ => return Err(other(format!("no cross-reference stream at offset {at}"))),
    };
    let ints = |key: &str| -> Option<Vec<i64>> {
        match d.get(key)? {
            Primitive::Array(a) => a
                .iter()
                .map(|v| match v {
                    Primitive::Integer(i) => Some(i64::from(*i)),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    };
    let w = ints("W").ok_or_else(|| other("a cross-reference stream has no /W of integers"))?;
    if w.len() != 3 || w.iter().any(|&x| !(0..=8).contains(&x)) || w.iter().sum::<i64>() == 0 {
        return Err(other(format!(
            "a cross-reference stream's /W {w:?} is not three field widths of 0 to 8 bytes, not all 0"
        )));
    }
    let count: i64 = match ints("Index") {
        Some(ix) if ix.len() % 2 == 0 && ix.iter().all(|&x| x >= 0) => ix.chunks(2).map(|c| c[1]).sum(),
        Some(_) => return Err(other("a cross-reference stream's /Index is not pairs of counts")),
        None => match d.get("Size") {
            Some(Primitive::Integer(n)) if *n >= 0 => i64::from(*n),
            _ => return Err(other("a cross-reference stream has no /Size")),
        },
    };
    if count > limits.max_objects as i64 {
        return Err(shared.over(format!(
            "a cross-reference stream lists {count} objects; govsig reads at most {}",
            limits.max_objects
        )));
    }
    Ok(())
}

/// Reads the cross-reference section at `at` (a table with its trailer, or a stream).
fn read_section(data: &[u8], at: usize, limits: &PdfLimits, shared: &Shared) -> PResult<Section> {
    if at >= data.len() {
        return Err(other(format!(
            "a cross-reference offset ({at}) lies outside the revision"
        )));
    }
    let classic = is_table(data, at);
    if !classic {
        check_xref_stream(data, at, limits, shared)?;
    }
    let mut lx = Lexer::with_offset(&data[at..], at);
    let raw = Raw {
        data,
        cap: limits.max_decompressed,
        shared: Some(shared),
    };
    let (subs, trailer) = read_xref_and_trailer_at(&mut lx, &raw)?;
    let end = at + lx.get_pos();
    let mut out = Vec::new();
    for sub in subs {
        for (i, e) in sub.entries.iter().enumerate() {
            let Some(id) = u32::try_from(i).ok().and_then(|i| sub.first_id.checked_add(i)) else {
                return Err(other("a cross-reference section numbers objects past 2^32"));
            };
            let entry = match *e {
                XRef::Free { .. } => Entry::Free,
                XRef::Raw { pos, gen_nr } => Entry::InFile {
                    pos,
                    gen: u16::try_from(gen_nr).map_err(|_| other("a generation number above 65535"))?,
                },
                XRef::Stream { stream_id, index } => Entry::Compressed {
                    container: u32::try_from(stream_id).map_err(|_| other("an object stream number past 2^32"))?,
                    index,
                },
                _ => return Err(other("an invalid cross-reference entry")),
            };
            out.push((id, entry));
            if out.len() > limits.max_objects {
                return Err(shared.over(format!(
                    "a cross-reference section lists more than {} objects",
                    limits.max_objects
                )));
            }
        }
    }
    let lopdf_trailer = match convert_plain(Primitive::Dictionary(trailer.clone()))? {
        Object::Dictionary(d) => d,
        _ => return Err(other("the trailer is not a dictionary")),
    };
    Ok(Section {
        entries: out,
        trailer,
        lopdf_trailer,
        end,
    })
}

/// The section at `at`, read once per file (see [`Shared`]).
fn section(shared: &Shared, data: &[u8], at: usize, limits: &PdfLimits) -> PResult<Rc<Section>> {
    if let Some(s) = shared.sections.borrow().get(&at).filter(|s| s.end <= data.len()) {
        return Ok(s.clone());
    }
    let s = Rc::new(read_section(data, at, limits, shared)?);
    let total = shared.entries_read.get().saturating_add(s.entries.len());
    let budget = limits.max_objects.saturating_mul(4);
    if total > budget {
        return Err(shared.over(format!(
            "the cross-reference sections list more than {budget} entries in all; govsig reads at most that many"
        )));
    }
    shared.entries_read.set(total);
    shared.sections.borrow_mut().insert(at, s.clone());
    Ok(s)
}

fn integer_of(d: &PDict, key: &str) -> PResult<Option<usize>> {
    match d.get(key) {
        None => Ok(None),
        Some(Primitive::Integer(n)) => usize::try_from(*n)
            .map(Some)
            .map_err(|_| other(format!("/{key} is negative"))),
        Some(_) => Err(other(format!("/{key} is not an integer"))),
    }
}

impl<'p> Doc<'p> {
    /// Opens the revision that is `data` (the file up to and including its `%%EOF`), whose
    /// `startxref` is `xref`: reads its cross-reference chain (/Prev, and the /XRefStm of a
    /// hybrid file) and its trailer. An encrypted document is refused.
    pub fn open(data: &'p [u8], xref: usize, limits: &PdfLimits, shared: &'p Shared) -> Result<Self, String> {
        let mut slots: HashMap<u32, Slot> = HashMap::new();
        let mut add = |entries: &[(u32, Entry)], in_use: bool, free: bool| {
            for &(id, entry) in entries {
                if (entry == Entry::Free && !free) || (entry != Entry::Free && !in_use) {
                    continue;
                }
                slots.entry(id).or_insert(Slot {
                    entry,
                    object: OnceCell::new(),
                });
            }
        };
        let mut newest: Option<Rc<Section>> = None;
        let mut seen = HashSet::new();
        let mut next = Some(xref);
        while let Some(at) = next {
            if !seen.insert(at) {
                return Err("its cross-reference sections refer to each other in a loop (/Prev)".into());
            }
            if seen.len() > limits.max_revisions * 2 {
                return Err(describe(&shared.over(format!(
                    "more than {} cross-reference sections; govsig reads at most that many",
                    limits.max_revisions * 2
                ))));
            }
            let sec = section(shared, data, at, limits).map_err(|e| describe(&e))?;
            let t = &sec.trailer;
            // A hybrid file (§7.5.8.4): the table's in-use entries first, then its
            // cross-reference stream's, then the table's free entries (placeholders for
            // objects the stream holds).
            let hybrid = integer_of(t, "XRefStm").map_err(|e| describe(&e))?;
            match hybrid {
                Some(stm) if is_table(data, at) => {
                    add(&sec.entries, true, false);
                    let stm_sec = section(shared, data, stm, limits).map_err(|e| describe(&e))?;
                    add(&stm_sec.entries, true, true);
                    add(&sec.entries, false, true);
                }
                _ => add(&sec.entries, true, true),
            }
            next = integer_of(t, "Prev").map_err(|e| describe(&e))?;
            if newest.is_none() {
                newest = Some(sec.clone());
            }
        }
        if slots.len() > limits.max_objects {
            return Err(describe(&shared.over(format!(
                "it has {} objects; govsig reads at most {}",
                slots.len(),
                limits.max_objects
            ))));
        }
        let opened = shared.slots_opened.get().saturating_add(slots.len());
        if opened > limits.max_objects_all_revisions {
            return Err(describe(&shared.over(format!(
                "its revisions list more than {} objects in all; govsig reads at most that many",
                limits.max_objects_all_revisions
            ))));
        }
        shared.slots_opened.set(opened);
        let newest = newest.ok_or("no trailer")?;
        if newest.trailer.get("Encrypt").is_some() {
            return Err("the PDF is encrypted; govsig verifies unencrypted PDFs only".into());
        }
        Ok(Doc {
            shared,
            data,
            newest,
            slots,
            object_streams: RefCell::new(HashMap::new()),
            max_decompressed: limits.max_decompressed,
            depth: Cell::new(0),
        })
    }

    /// The cross-reference entry of object `id`.
    pub fn entry(&self, id: u32) -> Option<Entry> {
        self.slots.get(&id).map(|s| s.entry)
    }

    /// Every object number the revision lists, with its entry.
    pub fn entries(&self) -> impl Iterator<Item = (u32, Entry)> + '_ {
        self.slots.iter().map(|(id, s)| (*id, s.entry))
    }

    /// Where object `id` is written (for a compressed object, its object stream), if the
    /// revision lists it in use with that generation.
    pub fn offset_of(&self, id: ObjectId) -> Option<usize> {
        match self.entry(id.0)? {
            Entry::InFile { pos, gen } if gen == id.1 => Some(pos),
            Entry::Compressed { container, .. } if id.1 == 0 => match self.entry(container)? {
                Entry::InFile { pos, .. } => Some(pos),
                _ => None,
            },
            _ => None,
        }
    }

    /// Object `r` as pdf-rs reads it (uncached: for an indirect /Length while another
    /// object is parsed, and for object streams).
    fn primitive(&self, r: PlainRef) -> PResult<Primitive> {
        let id = u32::try_from(r.id).map_err(|_| PdfError::Reference)?;
        let d = self.depth.get();
        if d >= 4 {
            return Err(other("objects refer to each other too deeply while being read"));
        }
        self.depth.set(d + 1);
        let out = self.parse_object(id, r.gen, &View::new(self));
        self.depth.set(d);
        out.map(|p| p.primitive)
    }

    /// Parses object `id` (generation `gen`).
    fn parse_object(&self, id: u32, gen: u64, view: &View<'_, 'p>) -> PResult<Parsed> {
        match self.entry(id) {
            Some(Entry::InFile { pos, gen: g }) => {
                if u64::from(g) != gen {
                    return Err(PdfError::Reference);
                }
                if pos >= self.data.len() {
                    return Err(other("an object offset lies outside its revision"));
                }
                if let Some(fast) = self.dictionary_with_contents(id, gen, pos, view) {
                    return fast;
                }
                let mut lx = Lexer::with_offset(&self.data[pos..], pos);
                let (r, p) = parse_indirect_object(&mut lx, view, None, ParseFlags::ANY)?;
                if r.id != u64::from(id) || r.gen != gen {
                    return Err(other("a cross-reference entry points at another object"));
                }
                Ok(Parsed {
                    primitive: p,
                    contents: None,
                    end: Some(pos + lx.get_pos()),
                })
            }
            Some(Entry::Compressed { container, index }) => {
                if gen != 0 {
                    return Err(PdfError::Reference);
                }
                let stm = self.object_stream(container)?;
                let (n, range) = stm
                    .objects
                    .get(index)
                    .ok_or_else(|| other("an object stream index out of range"))?;
                if *n != id {
                    return Err(other(
                        "an object stream holds another object where the cross-reference data points",
                    ));
                }
                let slice = stm.data.get(range.clone()).ok_or(PdfError::EOF)?;
                Ok(Parsed {
                    primitive: parse(slice, view, ParseFlags::ANY & !ParseFlags::STREAM)?,
                    contents: None,
                    end: None,
                })
            }
            Some(Entry::Free) | None => Err(PdfError::Reference),
        }
    }

    /// A dictionary object with a hex /Contents (a signature value), read key by key so
    /// that /Contents is decoded by [`decode_hex`]; `None` when the object is something
    /// else (then pdf-rs parses it whole).
    fn dictionary_with_contents(&self, id: u32, gen: u64, pos: usize, view: &View<'_, 'p>) -> Option<PResult<Parsed>> {
        // Only worth it (and only tried) when /Contents is spelled within the object's
        // first bytes as a signature dictionary's is.
        let head = &self.data[pos..self.data.len().min(pos + 512)];
        memchr::memmem::find(head, b"/Contents")?;
        let mut lx = Lexer::with_offset(&self.data[pos..], pos);
        let num: u64 = lx.next().ok()?.to().ok()?;
        let g: u64 = lx.next().ok()?.to().ok()?;
        if num != u64::from(id) || g != gen || lx.next_expect("obj").is_err() || lx.next_expect("<<").is_err() {
            return None;
        }
        let mut dict = PDict::new();
        let mut contents = None;
        loop {
            let tok = match lx.next() {
                Ok(t) => t,
                Err(e) => return Some(Err(e)),
            };
            if tok.equals(b">>") {
                break;
            }
            if !tok.starts_with(b"/") || tok.as_slice().contains(&b'#') {
                return None;
            }
            let key = tok.reslice(1..);
            if key.equals(b"Contents") {
                // A repeated /Contents: pdf-rs's general path reads the whole object (the
                // last value counts, as for every repeated key).
                if contents.is_some() || dict.get("Contents").is_some() {
                    return None;
                }
                if lx.peek().ok()?.equals(b"<") {
                    lx.next().ok()?;
                    let start = pos + lx.get_pos();
                    let close = memchr::memchr(b'>', &self.data[start..])? + start;
                    let digits = &self.data[start..close];
                    // The span is kept only when the digits are the bytes a pair each.
                    match decode_hex_pairs(digits).map(|b| (b, Some(start..close))) {
                        Some(read) => contents = Some(read),
                        None => match decode_hex(digits) {
                            Some(bytes) => contents = Some((bytes, None)),
                            None => return Some(Err(other("/Contents is not a hex string"))),
                        },
                    }
                    lx.set_pos(close + 1 - pos);
                    continue;
                }
            }
            let v = match parse_with_lexer(&mut lx, view, ParseFlags::ANY & !ParseFlags::STREAM) {
                Ok(v) => v,
                Err(_) => return None,
            };
            let name = std::str::from_utf8(key.as_slice()).ok()?;
            dict.insert(name, v);
        }
        // A stream, or anything but `endobj`: the general path decides.
        if !lx.next().ok()?.equals(b"endobj") {
            return None;
        }
        Some(Ok(Parsed {
            primitive: Primitive::Dictionary(dict),
            contents,
            end: Some(pos + lx.get_pos()),
        }))
    }

    fn object_stream(&self, container: u32) -> PResult<Rc<ObjStm>> {
        if let Some(cached) = self.object_streams.borrow().get(&container) {
            return cached.clone().ok_or_else(|| other("an object stream does not read"));
        }
        let read = self.read_object_stream(container);
        self.object_streams
            .borrow_mut()
            .insert(container, read.as_ref().ok().cloned());
        read
    }

    fn read_object_stream(&self, container: u32) -> PResult<Rc<ObjStm>> {
        let view = View::new(self);
        let p = match self.entry(container) {
            Some(Entry::InFile { gen, .. }) => self.parse_object(container, u64::from(gen), &view)?.primitive,
            _ => return Err(other("an object stream is not an object in the file")),
        };
        let Primitive::Stream(s) = p else {
            return Err(other("an object stream is not a stream"));
        };
        let n = integer_of(&s.info, "N")?.ok_or_else(|| other("an object stream has no /N"))?;
        let first = integer_of(&s.info, "First")?.ok_or_else(|| other("an object stream has no /First"))?;
        let filters = match s.info.get("Filter") {
            None => Vec::new(),
            Some(Primitive::Name(f)) if f.as_str() == "FlateDecode" => {
                let params = match s.info.get("DecodeParms") {
                    Some(Primitive::Dictionary(d)) => d.clone(),
                    None => PDict::new(),
                    Some(_) => return Err(other("an object stream's /DecodeParms is not a dictionary")),
                };
                vec![StreamFilter::from_kind_and_params("FlateDecode", params, &view)?]
            }
            Some(_) => return Err(other("an object stream uses a filter other than FlateDecode")),
        };
        s.raw_data(&view)?;
        let range = view.last_range.take().ok_or(PdfError::EOF)?;
        let raw = self.data.get(range).ok_or(PdfError::EOF)?;
        let data = decode_capped(raw, &filters, self.max_decompressed, Some(self.shared))?;
        if n > data.len() || first > data.len() {
            return Err(other("an object stream's /N or /First does not fit its data"));
        }
        // The header: N pairs of object number and offset (relative to /First), ascending.
        let mut lx = Lexer::new(&data[..first]);
        let mut starts: Vec<(u32, usize)> = Vec::with_capacity(n);
        for _ in 0..n {
            let num: u32 = lx.next()?.to()?;
            let off: usize = lx.next()?.to()?;
            let at = first
                .checked_add(off)
                .filter(|&a| a <= data.len())
                .ok_or(PdfError::EOF)?;
            if starts.last().is_some_and(|&(_, prev)| at < prev) {
                return Err(other("an object stream's offsets are not in order"));
            }
            starts.push((num, at));
        }
        let objects = starts
            .iter()
            .enumerate()
            .map(|(i, &(num, at))| (num, at..starts.get(i + 1).map_or(data.len(), |s| s.1)))
            .collect();
        Ok(Rc::new(ObjStm { data, objects }))
    }

    /// pdf-rs's primitive in lopdf's model; a stream's bytes are copied from the file here
    /// (only an indirect object can be a stream).
    fn convert(&self, p: Primitive, view: &View<'_, 'p>) -> PResult<Object> {
        let Primitive::Stream(s) = p else {
            return convert_plain(p);
        };
        s.raw_data(view)?;
        let range = view.last_range.take().ok_or(PdfError::EOF)?;
        let content = self.data.get(range).ok_or(PdfError::EOF)?.to_vec();
        let Object::Dictionary(dict) = convert_plain(Primitive::Dictionary(s.info))? else {
            return Err(other("a stream without a dictionary"));
        };
        Ok(Object::Stream(lopdf::Stream {
            dict,
            content,
            allows_compression: true,
            start_position: None,
        }))
    }

    fn load(&self, id: ObjectId) -> PResult<Loaded> {
        let pos = match self.entry(id.0) {
            Some(Entry::InFile { pos, .. }) => Some(pos),
            _ => None,
        };
        if let Some(pos) = pos {
            let shared = self.shared.objects.borrow();
            if let Some((o, _)) = shared
                .get(&(pos, id.0, id.1))
                .filter(|(_, end)| *end <= self.data.len())
            {
                return Ok(o.clone());
            }
        }
        let view = View::new(self);
        let Parsed {
            primitive: p,
            contents,
            end,
        } = self.parse_object(id.0, u64::from(id.1), &view)?;
        // A stream's indirect /Length may read differently in another revision: streams
        // are not shared.
        let stream = matches!(p, Primitive::Stream(_));
        let mut o = self.convert(p, &view)?;
        let mut contents_span = None;
        if let (Some((c, span)), Object::Dictionary(d)) = (contents, &mut o) {
            contents_span = span;
            d.set("Contents", Object::String(c, StringFormat::Hexadecimal));
        }
        let o = Loaded {
            object: Rc::new(o),
            contents_span,
        };
        if let (Some(pos), Some(end), false) = (pos, end, stream) {
            self.shared
                .objects
                .borrow_mut()
                .insert((pos, id.0, id.1), (o.clone(), end));
        }
        Ok(o)
    }
}

/// A primitive that is not a stream (a direct object) in lopdf's model.
fn convert_plain(p: Primitive) -> PResult<Object> {
    Ok(match p {
        Primitive::Null => Object::Null,
        Primitive::Integer(i) => Object::Integer(i64::from(i)),
        Primitive::Number(f) => Object::Real(f),
        Primitive::Boolean(b) => Object::Boolean(b),
        Primitive::String(s) => Object::String(s.as_bytes().to_vec(), StringFormat::Literal),
        Primitive::Name(n) => Object::Name(n.as_bytes().to_vec()),
        Primitive::Reference(r) => Object::Reference((
            u32::try_from(r.id).map_err(|_| PdfError::Reference)?,
            u16::try_from(r.gen).map_err(|_| PdfError::Reference)?,
        )),
        Primitive::Array(a) => Object::Array(a.into_iter().map(convert_plain).collect::<PResult<_>>()?),
        Primitive::Dictionary(d) => Object::Dictionary(
            d.into_iter()
                .map(|(k, v)| Ok((k.as_str().as_bytes().to_vec(), convert_plain(v)?)))
                .collect::<PResult<Dictionary>>()?,
        ),
        Primitive::Stream(_) => return Err(other("a stream where a direct object must be")),
    })
}

impl<'d, 'p> View<'d, 'p> {
    fn new(doc: &'d Doc<'p>) -> Self {
        View {
            doc,
            last_range: Cell::new(None),
        }
    }
}

impl Doc<'_> {
    /// Object `id` read once (`None`: not in use with that generation).
    fn read(&self, id: ObjectId) -> Option<&Result<Loaded, String>> {
        let slot = self.slots.get(&id.0)?;
        match slot.entry {
            Entry::Free => return None,
            Entry::InFile { gen, .. } if gen != id.1 => return None,
            Entry::Compressed { .. } if id.1 != 0 => return None,
            _ => {}
        }
        Some(slot.object.get_or_init(|| self.load(id).map_err(|e| describe(&e))))
    }
}

impl Objects for Doc<'_> {
    fn object(&self, id: ObjectId) -> Option<&Object> {
        self.read(id)?.as_ref().ok().map(|l| &*l.object)
    }
    fn unreadable(&self, id: ObjectId) -> Option<String> {
        self.read(id)?.as_ref().err().cloned()
    }
    fn contents_span(&self, id: ObjectId) -> Option<Range<usize>> {
        self.read(id)?.as_ref().ok()?.contents_span.clone()
    }
    fn trailer(&self) -> &Dictionary {
        &self.newest.lopdf_trailer
    }
}

/// A hex digit's value and whether the byte is not a hex digit (1 if not), by arithmetic
/// rather than a table, so that loops over many digits vectorise.
#[inline(always)]
pub(super) fn hex_digit(c: u8) -> (u8, u8) {
    let digit = c.wrapping_sub(b'0');
    // 'A'..'F' and 'a'..'f' alike: setting bit 5 maps the first onto the second and no other
    // byte into it.
    let letter = (c | 0x20).wrapping_sub(b'a');
    let (is_digit, is_letter) = (digit < 10, letter < 6);
    let value = if is_digit { digit } else { letter.wrapping_add(10) };
    (value, u8::from(!(is_digit | is_letter)))
}

/// Decodes pairs of hex digits into `out` (as many pairs as `out` has bytes), returning
/// non-zero when a byte is not a hex digit. Thirty-two digits at a time, a block the
/// compiler turns into vector code (a signature's /Contents is thousands of digits).
pub(super) fn decode_pairs_into(digits: &[u8], out: &mut [u8]) -> u8 {
    let n = out.len().min(digits.len() / 2);
    let (digits, out) = (&digits[..2 * n], &mut out[..n]);
    let mut bad = 0u8;
    let mut blocks = digits.chunks_exact(32);
    let mut outs = out.chunks_exact_mut(16);
    for (d, o) in (&mut blocks).zip(&mut outs) {
        let mut v = [0u8; 32];
        for (x, &c) in v.iter_mut().zip(d) {
            let (value, not_hex) = hex_digit(c);
            *x = value;
            bad |= not_hex;
        }
        for (o, pair) in o.iter_mut().zip(v.chunks_exact(2)) {
            *o = (pair[0] << 4) | pair[1];
        }
    }
    for (o, pair) in outs.into_remainder().iter_mut().zip(blocks.remainder().chunks_exact(2)) {
        let ((hi, e1), (lo, e2)) = (hex_digit(pair[0]), hex_digit(pair[1]));
        bad |= e1 | e2;
        *o = (hi << 4) | lo;
    }
    bad
}

fn decode_pairs(digits: &[u8], out: &mut [u8]) -> bool {
    decode_pairs_into(digits, out) == 0
}

/// Decodes the digits of a hex string (between `<` and `>`) when they are hex digits only,
/// an even count of them, a pair per byte; `None` otherwise. A signature's /Contents is
/// mostly a run of `0` digits (the reserve after the CMS), found from the end in wide
/// compares and filled in as zero bytes; the rest is decoded in blocks.
pub fn decode_hex_pairs(digits: &[u8]) -> Option<Vec<u8>> {
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    // Where the trailing run of '0' digits starts (compares the compiler vectorises).
    let mut end = digits.len();
    while end >= 64 && digits[end - 64..end].iter().fold(0u8, |acc, &b| acc | (b ^ b'0')) == 0 {
        end -= 64;
    }
    while end > 0 && digits[end - 1] == b'0' {
        end -= 1;
    }
    // Rounded up to a whole byte; the zero bytes after it are already in `out`.
    end += end % 2;
    let mut out = vec![0u8; digits.len() / 2];
    decode_pairs(&digits[..end], &mut out[..end / 2]).then_some(out)
}

/// Decodes the digits of a hex string (between `<` and `>`): [`decode_hex_pairs`], or for
/// whitespace among the digits and an odd count (a final 0 implied, ISO 32000-1 §7.3.4.3)
/// the general path. `None` when a byte is neither a digit nor whitespace.
pub fn decode_hex(digits: &[u8]) -> Option<Vec<u8>> {
    decode_hex_pairs(digits).or_else(|| {
        let mut clean: Vec<u8> = digits.iter().copied().filter(|&b| !is_pdf_ws(b)).collect();
        if !clean.len().is_multiple_of(2) {
            clean.push(b'0');
        }
        let mut out = vec![0u8; clean.len() / 2];
        decode_pairs(&clean, &mut out).then_some(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file built object by object: `objects` (number, body) written in order, then one
    /// cross-reference table and trailer (`extra` added to it); the offset of that table.
    fn file(objects: &[(u32, &[u8])], extra: &str) -> (Vec<u8>, usize) {
        let mut out = b"%PDF-1.7\n".to_vec();
        let mut at = Vec::new();
        for (n, body) in objects {
            at.push((*n, out.len()));
            out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let (xref, size) = table(&mut out, &at);
        out.extend_from_slice(format!("trailer\n<< /Size {size} /Root 1 0 R {extra} >>\n").as_bytes());
        out.extend_from_slice(format!("startxref\n{xref}\n%%EOF\n").as_bytes());
        (out, xref)
    }

    /// Appends a classic table listing `at` (number, offset), one subsection per object;
    /// returns its offset and the /Size it implies.
    fn table(out: &mut Vec<u8>, at: &[(u32, usize)]) -> (usize, u32) {
        let xref = out.len();
        out.extend_from_slice(b"xref\n0 1\n0000000000 65535 f\r\n");
        for (n, off) in at {
            out.extend_from_slice(format!("{n} 1\n{off:010} 00000 n\r\n").as_bytes());
        }
        (xref, at.iter().map(|(n, _)| n + 1).max().unwrap_or(1))
    }

    fn open(pdf: &[u8], xref: usize, limits: &PdfLimits) -> Result<Doc<'static>, String> {
        let pdf: &'static [u8] = Box::leak(pdf.to_vec().into_boxed_slice());
        Doc::open(pdf, xref, limits, Box::leak(Box::default()))
    }

    const CATALOG: &[u8] = b"<< /Type /Catalog /Pages 2 0 R >>";
    const PAGES: &[u8] = b"<< /Type /Pages /Kids [] /Count 0 >>";

    #[test]
    fn a_revision_reads_its_objects_and_nothing_else() {
        let (pdf, xref) = file(&[(1, CATALOG), (2, PAGES)], "");
        let doc = open(&pdf, xref, &PdfLimits::default()).expect("opens");
        let Some(Object::Dictionary(cat)) = doc.object((1, 0)) else {
            panic!("no catalog")
        };
        assert_eq!(cat.get(b"Type").ok(), Some(&Object::Name(b"Catalog".to_vec())));
        assert!(doc.object((1, 1)).is_none(), "another generation is not the object");
        assert!(doc.object((7, 0)).is_none());
        assert_eq!(doc.trailer().get(b"Root").ok(), Some(&Object::Reference((1, 0))));
    }

    #[test]
    fn an_entry_that_points_at_another_object_reads_nothing() {
        let (mut pdf, first) = file(&[(1, CATALOG), (2, PAGES)], "");
        // A second table that says object 1 is where object 2 is written.
        let two = memchr::memmem::find(&pdf, b"2 0 obj").expect("object 2");
        let (xref, _) = table(&mut pdf, &[(1, two)]);
        pdf.extend_from_slice(
            format!("trailer\n<< /Size 3 /Root 1 0 R /Prev {first} >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
        );
        let doc = open(&pdf, xref, &PdfLimits::default()).expect("opens");
        assert!(doc.object((1, 0)).is_none());
        assert!(doc.object((2, 0)).is_some());
    }

    #[test]
    fn a_prev_chain_that_loops_is_refused() {
        let (mut pdf, first) = file(&[(1, CATALOG), (2, PAGES)], "");
        // A section whose /Prev names itself, and two that name each other.
        let (me, _) = table(&mut pdf, &[]);
        pdf.extend_from_slice(format!("trailer\n<< /Size 3 /Root 1 0 R /Prev {me} >>\n").as_bytes());
        let e = open(&pdf, me, &PdfLimits::default()).err().expect("refused");
        assert!(e.contains("loop"), "{e}");
        let (mut pdf, _) = file(&[(1, CATALOG), (2, PAGES)], "");
        let a = pdf.len();
        let b_at = a + format!(
            "xref\n0 1\n0000000000 65535 f\r\ntrailer\n<< /Size 3 /Root 1 0 R /Prev {:07} >>\n",
            0
        )
        .len();
        pdf.extend_from_slice(
            format!("xref\n0 1\n0000000000 65535 f\r\ntrailer\n<< /Size 3 /Root 1 0 R /Prev {b_at:07} >>\n").as_bytes(),
        );
        pdf.extend_from_slice(
            format!("xref\n0 1\n0000000000 65535 f\r\ntrailer\n<< /Size 3 /Root 1 0 R /Prev {a:07} >>\n").as_bytes(),
        );
        let e = open(&pdf, b_at, &PdfLimits::default()).err().expect("refused");
        assert!(e.contains("loop"), "{e}");
        assert!(open(&pdf, first, &PdfLimits::default()).is_ok());
    }

    #[test]
    fn a_cross_reference_stream_is_checked_before_its_entries_are_read() {
        for (w, size) in [("[0 0 0]", "100"), ("[1 9 1]", "3"), ("[1 2 1]", "2000000000")] {
            let (mut pdf, _) = file(&[(1, CATALOG), (2, PAGES)], "");
            let at = pdf.len();
            pdf.extend_from_slice(
                format!("3 0 obj\n<< /Type /XRef /W {w} /Size {size} /Root 1 0 R /Length 0 >>\nstream\n\nendstream\nendobj\nstartxref\n{at}\n%%EOF\n")
                    .as_bytes(),
            );
            let e = open(&pdf, at, &PdfLimits::default()).err().expect("refused");
            assert!(e.contains("/W") || e.contains("objects"), "{w} {size}: {e}");
        }
    }

    #[test]
    fn an_object_stream_must_list_the_object_asked_for() {
        // Object stream 3 holds one object, which its header numbers 9; a cross-reference
        // stream (4) says object 5 is at index 0 of stream 3 and object 9 too.
        let objstm_data = b"9 0 << /Mine true >>";
        let objstm = format!(
            "<< /Type /ObjStm /N 1 /First 4 /Length {} >>\nstream\n",
            objstm_data.len()
        );
        let mut body = objstm.into_bytes();
        body.extend_from_slice(objstm_data);
        body.extend_from_slice(b"\nendstream");
        let (mut pdf, first) = file(&[(1, CATALOG), (2, PAGES), (3, &body)], "");
        let at = pdf.len();
        // /W [1 2 1], /Index [5 1 9 1]: type 2, stream 3, index 0 for both.
        let entries: [u8; 8] = [2, 0, 3, 0, 2, 0, 3, 0];
        pdf.extend_from_slice(
            format!("4 0 obj\n<< /Type /XRef /W [1 2 1] /Index [5 1 9 1] /Size 10 /Root 1 0 R /Prev {first} /Length 8 >>\nstream\n").as_bytes(),
        );
        pdf.extend_from_slice(&entries);
        pdf.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{at}\n%%EOF\n").as_bytes());
        let doc = open(&pdf, at, &PdfLimits::default()).expect("opens");
        assert!(doc.object((5, 0)).is_none(), "object 5 read from where object 9 is");
        let Some(Object::Dictionary(d)) = doc.object((9, 0)) else {
            panic!("object 9 unread")
        };
        assert_eq!(d.get(b"Mine").ok(), Some(&Object::Boolean(true)));
    }

    #[test]
    fn the_entries_read_for_a_file_are_bounded_over_all_its_sections() {
        let limits = PdfLimits {
            max_objects: 100,
            ..PdfLimits::default()
        };
        let (mut pdf, mut prev) = file(&[(1, CATALOG), (2, PAGES)], "");
        // Five sections of 90 entries each along /Prev: each is within the cap, together
        // they are more than four times it.
        for _ in 0..5 {
            let at = pdf.len();
            pdf.extend_from_slice(b"xref\n0 90\n");
            for _ in 0..90 {
                pdf.extend_from_slice(b"0000000000 65535 f\r\n");
            }
            pdf.extend_from_slice(format!("trailer\n<< /Size 90 /Root 1 0 R /Prev {prev} >>\n").as_bytes());
            prev = at;
        }
        let e = open(&pdf, prev, &limits).err().expect("refused");
        assert!(e.contains("entries in all"), "{e}");
        assert!(open(&pdf, prev, &PdfLimits::default()).is_ok());
    }

    #[test]
    fn the_objects_listed_by_all_revisions_are_bounded() {
        // Revisions that each point back at one shared section hold its objects once each.
        let limits = PdfLimits {
            max_objects_all_revisions: 5,
            ..PdfLimits::default()
        };
        let (pdf, xref) = file(&[(1, CATALOG), (2, PAGES)], "");
        let shared = Shared::default();
        let mut opened = 0;
        let e = loop {
            match Doc::open(&pdf, xref, &limits, &shared) {
                Ok(_) => opened += 1,
                Err(e) => break e,
            }
        };
        // Three objects (0 free, 1, 2) each time: the second opening is one too many.
        assert_eq!(opened, 1);
        assert!(e.contains("objects in all"), "{e}");
    }

    #[test]
    fn hex_strings_decode_with_padding_whitespace_and_odd_length() {
        assert_eq!(decode_hex(b"3082ab00").unwrap(), vec![0x30, 0x82, 0xab, 0]);
        let mut long = b"0a".to_vec();
        long.extend(std::iter::repeat_n(b'0', 300));
        let d = decode_hex(&long).unwrap();
        assert_eq!(d.len(), 151);
        assert_eq!(d[0], 0x0a);
        assert!(d[1..].iter().all(|&b| b == 0));
        assert_eq!(decode_hex(b"30 82\nAB").unwrap(), vec![0x30, 0x82, 0xab]);
        assert_eq!(decode_hex(b"123").unwrap(), vec![0x12, 0x30]);
        assert_eq!(decode_hex(b"").unwrap(), Vec::<u8>::new());
        assert_eq!(decode_hex(b"000").unwrap(), vec![0, 0]);
        assert!(decode_hex(b"zz").is_none());
        assert!(decode_hex(b"1g00").is_none());
        assert!(decode_hex(b"0\xff").is_none());
        // Every byte value, both cases, against the hex crate.
        let all: Vec<u8> = (0..=255u8).collect();
        assert_eq!(decode_hex(hex::encode(&all).as_bytes()).unwrap(), all);
        assert_eq!(decode_hex(hex::encode_upper(&all).as_bytes()).unwrap(), all);
        // The pair-per-byte decoder (whose digits may stand for the gap) takes nothing else.
        assert_eq!(decode_hex_pairs(b"3082ab00").unwrap(), vec![0x30, 0x82, 0xab, 0]);
        assert!(decode_hex_pairs(b"30 82\nAB").is_none());
        assert!(decode_hex_pairs(b"123").is_none());
        assert!(decode_hex_pairs(b"3082ab0 ").is_none());
        // Every byte that is not a hex digit, in a block (vector path) and in the tail.
        for c in (0..=255u8).filter(|c| !c.is_ascii_hexdigit()) {
            let mut block = hex::encode(&all[..40]).into_bytes();
            block[7] = c;
            assert!(decode_hex_pairs(&block).is_none(), "{c:#x} in a block");
            let mut tail = hex::encode(&all[..20]).into_bytes();
            tail[37] = c;
            assert!(decode_hex_pairs(&tail).is_none(), "{c:#x} in the tail");
        }
    }

    #[test]
    fn a_contents_span_is_known_only_for_digits_read_a_pair_per_byte() {
        let sig = |contents: &str| format!("<< /Type /Sig /ByteRange [0 1 2 3] /Contents <{contents}> >>");
        for (contents, spelled) in [("3082ab00", true), ("3082 ab00", false), ("3082ab0", false)] {
            let body = sig(contents);
            let (pdf, xref) = file(&[(1, body.as_bytes())], "");
            let limits = PdfLimits::default();
            let shared = Shared::default();
            let doc = Doc::open(&pdf, xref, &limits, &shared).expect("opens");
            let span = doc.contents_span((1, 0));
            assert_eq!(span.is_some(), spelled, "{contents}");
            if let Some(span) = span {
                assert_eq!(&pdf[span], contents.as_bytes());
            }
        }
    }
}
