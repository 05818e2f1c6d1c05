//! BER -> DER normalisation, bounded in depth, element count and output size.
//!
//! Some CMS signers (OpenSSL's streaming mode among them) emit BER: indefinite lengths,
//! constructed OCTET STRINGs, non-minimal lengths. govsig parses strictly as DER first and only
//! when that fails runs the input through [`normalise`] and parses again.
//!
//! What is rewritten, and why (X.690 §8 is BER, §10/§11 the DER restrictions):
//! - indefinite lengths become definite (§10.1), and every length is minimal (§10.1, §8.1.3.5);
//! - constructed encodings of universal string types (BIT STRING, OCTET STRING, the restricted
//!   character strings, UTCTime, GeneralizedTime, ObjectDescriptor) become primitive by
//!   concatenating their segments (§10.2, §8.6.4, §8.7.3, §8.23.5);
//! - BOOLEAN TRUE becomes 0xFF (§11.1);
//! - the unused bits of a BIT STRING are set to zero (§11.2.1);
//! - the elements of a universal SET are sorted by their DER encodings (§11.6).
//!
//! What is deliberately not rewritten:
//! - context-specific, application and private constructed elements stay constructed: an
//!   IMPLICIT-tagged constructed string cannot be told apart from an IMPLICIT SEQUENCE from the
//!   bytes alone, so their children are normalised but the element itself is kept;
//! - SET ordering: a SET and a SET OF share the tag 0x31. DER orders a SET OF by encoding
//!   (§11.6) and a SET by tag (§10.3); every SET that matters in CMS and X.509 is a SET OF, so
//!   both are sorted by encoding. For a SET whose components have distinct tags that only
//!   differs from tag order when primitive and constructed components are mixed;
//!   context-tagged IMPLICIT SET OFs (CMS `signedAttrs [0]`, `certificates [0]`) are not sorted,
//!   since their tag does not say they are sets;
//! - value-level DER rules (minimal INTEGERs, time formats, DEFAULT omission, trailing zero bits
//!   of named bit lists, BOOLEAN/NULL with a wrong content length): those are left verbatim for
//!   the strict DER parser to accept or reject.
//!
//! Bounds: the input is walked twice with an explicit stack no deeper than
//! [`Limits::max_depth`], over at most [`Limits::max_elements`] elements: a first walk checks
//! everything and measures, so the exact output size is checked against [`Limits::max_output`]
//! before anything is written; the second writes. Memory is proportional to the input whatever
//! its shape, at most 8 octets per input octet with the output included (about 6 at worst in
//! practice; see [`normalise`]): no tree is built, only a 4-octet length per constructed
//! element is kept. A hostile input of millions of two-octet elements therefore costs a few
//! times its size, not dozens (an arena of 48-octet nodes cost +412 MB for 18 MB). Time is
//! linear in the input except for SET sorting, which costs O(n log n) comparisons per SET and
//! re-copies a SET's contents once per enclosing SET.

use std::fmt;

/// Resource limits for [`normalise`] and [`is_der_encoded`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Maximum nesting of constructed elements (the outermost constructed element is depth 1).
    pub max_depth: usize,
    /// Maximum size in bytes of the DER output.
    pub max_output: usize,
    /// Maximum number of TLV elements (string segments included, end-of-contents not).
    pub max_elements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_output: 256 * 1024 * 1024,
            max_elements: 10_000_000,
        }
    }
}

/// Why a BER input could not be normalised. Offsets are byte offsets into the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BerError {
    /// The input ends before the element starting at `offset` is complete.
    Truncated { offset: usize },
    /// The length octets of the element at `offset` are invalid or inconsistent.
    BadLength { offset: usize },
    /// The element at `offset` is nested deeper than `max` constructed elements.
    TooDeep { offset: usize, max: usize },
    /// The DER output would exceed `max` bytes.
    TooLarge { max: usize },
    /// The input holds more than `max` elements.
    TooManyElements { max: usize },
    /// The primitive element at `offset` uses the indefinite length form.
    IndefiniteOnPrimitive { offset: usize },
    /// The identifier octets at `offset` are invalid.
    BadTag { offset: usize },
    /// Bytes follow the single top-level element, starting at `offset`.
    TrailingData { offset: usize },
    /// A segment of the constructed string at `offset` is not a valid segment of that string.
    MismatchedConstructedString { offset: usize },
}

impl fmt::Display for BerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BerError::Truncated { offset } => write!(
                f,
                "BER input is truncated: the element starting at byte {offset} runs past the end \
                 of the input (or its end-of-contents octets are missing); the file is incomplete"
            ),
            BerError::BadLength { offset } => write!(
                f,
                "invalid length for the element at byte {offset}: the reserved 0xFF form, more \
                 than 8 length octets, a value too large for this machine, or contents that \
                 extend past the enclosing element"
            ),
            BerError::TooDeep { offset, max } => write!(
                f,
                "the element at byte {offset} is nested more than {max} constructed elements \
                 deep, more than any signature or certificate needs"
            ),
            BerError::TooLarge { max } => write!(
                f,
                "the DER encoding would exceed {max} bytes, the bound on\
                 what one input may expand to"
            ),
            BerError::TooManyElements { max } => write!(
                f,
                "the input holds more than {max} ASN.1 elements, more than any \
                 signature or certificate needs"
            ),
            BerError::IndefiniteOnPrimitive { offset } => write!(
                f,
                "the primitive element at byte {offset} uses the indefinite length form, which \
                 X.690 §8.1.3.2 allows only for constructed elements"
            ),
            BerError::BadTag { offset } => write!(
                f,
                "invalid identifier octets at byte {offset}: a non-minimal or oversized tag \
                 number, a misplaced end-of-contents marker, or a universal type in a form \
                 X.690 forbids (e.g. a constructed INTEGER or a primitive SEQUENCE)"
            ),
            BerError::TrailingData { offset } => write!(
                f,
                "unexpected data at byte {offset} after the end of the top-level element; the \
                 input must be exactly one ASN.1 element"
            ),
            BerError::MismatchedConstructedString { offset } => write!(
                f,
                "invalid segment in a constructed string at byte {offset}: segments must have \
                 the string's own universal type (X.690 §8.6.4, §8.7.3, §8.23.5), and in a BIT \
                 STRING only the last segment may have unused bits, at most 7"
            ),
        }
    }
}

impl std::error::Error for BerError {}

const CLASS_UNIVERSAL: u8 = 0x00;
const CONSTRUCTED: u8 = 0x20;

const TAG_EOC: u32 = 0;
const TAG_BOOLEAN: u32 = 1;
const TAG_BIT_STRING: u32 = 3;
const TAG_OCTET_STRING: u32 = 4;
const TAG_SET: u32 = 17;

/// Universal types whose BER encoding may be constructed and whose DER encoding is primitive:
/// the string types (X.690 §8.6, §8.7, §8.23), the time types, which are VisibleStrings
/// (X.680 §46.3, §47.3), and ObjectDescriptor, a GraphicString (X.680 §48.3).
fn is_string_type(number: u32) -> bool {
    matches!(number, 3 | 4 | 7 | 12 | 18..=28 | 30)
}

/// Universal types that X.690 requires to be primitive (BOOLEAN §8.2.1, INTEGER §8.3.1,
/// NULL §8.8.1, OBJECT IDENTIFIER §8.19.1, REAL §8.5.1, ENUMERATED §8.4, RELATIVE-OID §8.20.1).
fn must_be_primitive(number: u32) -> bool {
    matches!(number, 1 | 2 | 5 | 6 | 9 | 10 | 13)
}

/// Universal types that X.690 requires to be constructed (EXTERNAL §8.18, EMBEDDED PDV §8.17,
/// SEQUENCE §8.9, SET §8.11, CHARACTER STRING §8.24).
fn must_be_constructed(number: u32) -> bool {
    matches!(number, 8 | 11 | 16 | 17 | 29)
}

/// May a segment with universal tag `segment` appear inside a constructed string of universal
/// type `outer`? BIT and OCTET STRING segments have the string's own type (§8.6.4.1, §8.7.3.2).
/// A restricted character string is encoded as if it were `[UNIVERSAL n] IMPLICIT OCTET STRING`
/// (§8.23.5), so its segments are OCTET STRINGs; encoders that repeat the outer type on the
/// segments are accepted too, as the concatenated value is the same.
fn segment_allowed(outer: u32, segment: u32) -> bool {
    match outer {
        TAG_BIT_STRING | TAG_OCTET_STRING => segment == outer,
        _ => segment == outer || segment == TAG_OCTET_STRING,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identifier {
    /// The class bits (0x00, 0x40, 0x80 or 0xC0).
    class: u8,
    constructed: bool,
    number: u32,
}

impl Identifier {
    fn is_universal(&self, number: u32) -> bool {
        self.class == CLASS_UNIVERSAL && self.number == number
    }
}

/// One decoded TLV header.
#[derive(Debug, Clone, Copy)]
struct Header {
    start: usize,
    ident: Identifier,
    content_start: usize,
    /// `None` for the indefinite form.
    len: Option<usize>,
    /// The length octets were the minimal definite form DER requires.
    minimal_len: bool,
}

/// Where the contents of an element must end at the latest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    /// No enclosing definite-length element: the end of the input.
    Input,
    /// The end of the contents of an enclosing definite-length element.
    Enclosing(usize),
}

impl Bound {
    fn offset(self, input: &[u8]) -> usize {
        match self {
            Bound::Input => input.len(),
            Bound::Enclosing(end) => end,
        }
    }

    /// The error for an element starting at `offset` that does not fit: running past the input
    /// means the file is cut short, running past a definite enclosing element means the lengths
    /// contradict each other.
    fn overrun(self, offset: usize) -> BerError {
        match self {
            Bound::Input => BerError::Truncated { offset },
            Bound::Enclosing(_) => BerError::BadLength { offset },
        }
    }
}

/// Reads the identifier and length octets at `pos`; the element must end by `bound`.
fn read_header(input: &[u8], pos: usize, bound: Bound) -> Result<Header, BerError> {
    let start = pos;
    let truncated = BerError::Truncated { offset: start };
    let first = *input.get(pos).ok_or(truncated.clone())?;
    let mut pos = pos + 1;
    let class = first & 0xC0;
    let constructed = first & CONSTRUCTED != 0;
    let mut number = u32::from(first & 0x1F);
    if number == 0x1F {
        // X.690 §8.1.2.4: high-tag-number form, base 128, most significant group first.
        let mut value: u32 = 0;
        let mut octets = 0usize;
        loop {
            let b = *input.get(pos).ok_or(truncated.clone())?;
            pos += 1;
            // §8.1.2.4.2 c): the first subsequent octet may not have a zero payload
            // (a non-minimal tag would give one element two encodings).
            if octets == 0 && b == 0x80 {
                return Err(BerError::BadTag { offset: start });
            }
            octets += 1;
            // Tag numbers beyond u32 are not used by any standard; refusing them stops an
            // unbounded identifier from being read.
            if octets > 5 || value > (u32::MAX >> 7) {
                return Err(BerError::BadTag { offset: start });
            }
            value = (value << 7) | u32::from(b & 0x7F);
            if b & 0x80 == 0 {
                break;
            }
        }
        // §8.1.2.2: numbers 0..=30 must use the single-octet form.
        if value < 0x1F {
            return Err(BerError::BadTag { offset: start });
        }
        number = value;
    }
    let ident = Identifier {
        class,
        constructed,
        number,
    };
    let l0 = *input.get(pos).ok_or(truncated.clone())?;
    pos += 1;
    let (len, minimal_len) = if l0 < 0x80 {
        (Some(usize::from(l0)), true)
    } else if l0 == 0x80 {
        if !constructed {
            return Err(BerError::IndefiniteOnPrimitive { offset: start });
        }
        (None, false)
    } else {
        let count = usize::from(l0 & 0x7F);
        // 0xFF is reserved (§8.1.3.5 c)); more than 8 octets cannot describe an addressable
        // length without leading zeros, so such an encoding is refused rather than scanned.
        if l0 == 0xFF || count > 8 {
            return Err(BerError::BadLength { offset: start });
        }
        let end = pos.checked_add(count).ok_or(truncated.clone())?;
        let octets = input.get(pos..end).ok_or(truncated.clone())?;
        pos = end;
        let mut value: u64 = 0;
        for &b in octets {
            value = (value << 8) | u64::from(b);
        }
        let minimal = value >= 0x80 && octets.first().is_some_and(|&b| b != 0);
        let value = usize::try_from(value).map_err(|_| BerError::BadLength { offset: start })?;
        (Some(value), minimal)
    };
    if let Some(len) = len {
        match pos.checked_add(len) {
            Some(end) if end <= bound.offset(input) => {}
            _ => return Err(bound.overrun(start)),
        }
    }
    Ok(Header {
        start,
        ident,
        content_start: pos,
        len,
        minimal_len,
    })
}

/// Is this header an end-of-contents marker (00 00)? A universal tag 0 in any other shape is
/// an error (§8.1.5).
fn is_eoc(h: &Header) -> Result<bool, BerError> {
    if h.ident.class == CLASS_UNIVERSAL && h.ident.number == TAG_EOC {
        if h.ident.constructed || h.len != Some(0) || h.content_start != h.start + 2 {
            return Err(BerError::BadTag { offset: h.start });
        }
        return Ok(true);
    }
    Ok(false)
}

/// Rejects universal types used in a form X.690 forbids for them.
fn check_form(h: &Header) -> Result<(), BerError> {
    let id = h.ident;
    if id.class == CLASS_UNIVERSAL
        && ((id.constructed && must_be_primitive(id.number)) || (!id.constructed && must_be_constructed(id.number)))
    {
        return Err(BerError::BadTag { offset: h.start });
    }
    Ok(())
}

/// What an opened constructed element becomes in DER.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    /// Stays constructed; its children are normalised.
    Constructed,
    /// A universal SET: stays constructed, children sorted by encoding when written.
    Set,
    /// A constructed string: its segments are concatenated into one primitive string.
    FlatString,
    /// A constructed BIT STRING: its segments (unused-bits octets stripped) are concatenated
    /// after one unused-bits octet, the last segment's.
    FlatBitString,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Children are elements of their own.
    Children,
    /// Children are segments of a constructed string of universal type `outer`.
    Segments { outer: u32 },
}

#[derive(Debug, Clone, Copy)]
struct Frame {
    start: usize,
    /// End of the contents for the definite form, `None` for the indefinite form.
    end: Option<usize>,
    /// Where the contents must end at the latest.
    bound: Bound,
    mode: Mode,
    /// An element of its own (reported to the sink), not a nested segment of a string.
    element: bool,
    /// For a constructed string: the stack index of the string's own frame.
    string: usize,
    /// For a BIT STRING's own frame: the unused bits of the segment seen last.
    unused: u8,
}

/// Number of octets in the minimal DER length encoding of `len`.
fn length_octets(len: usize) -> usize {
    if len < 0x80 {
        1
    } else {
        1 + (usize::BITS - len.leading_zeros()).div_ceil(8) as usize
    }
}

fn identifier_octets(id: &Identifier) -> usize {
    if id.number < 0x1F {
        1
    } else {
        1 + (u32::BITS - id.number.leading_zeros()).div_ceil(7) as usize
    }
}

fn write_identifier(out: &mut Vec<u8>, id: &Identifier) {
    let first = id.class | if id.constructed { CONSTRUCTED } else { 0 };
    if id.number < 0x1F {
        // Guarded above: the number fits in the low five bits.
        out.push(first | (id.number & 0x1F) as u8);
        return;
    }
    out.push(first | 0x1F);
    let groups = identifier_octets(id) - 1;
    for i in (0..groups).rev() {
        let group = ((id.number >> (7 * i)) & 0x7F) as u8;
        out.push(if i == 0 { group } else { group | 0x80 });
    }
}

fn write_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let n = length_octets(len) - 1;
    out.push(0x80 | n as u8);
    for i in (0..n).rev() {
        out.push(((len >> (8 * i)) & 0xFF) as u8);
    }
}

/// What a walk over a BER element reports, in input (= DER output) order. The walk does all
/// the checking; a sink only measures or writes.
trait Sink {
    /// A constructed element starts (its segments or children follow).
    fn open(&mut self, h: &Header, kind: Open);
    /// A primitive element that is not a string segment.
    fn primitive(&mut self, h: &Header);
    /// The data octets `input[start..end]` of a string segment.
    fn segment(&mut self, start: usize, end: usize);
    /// The innermost open element ends; `unused` is a BIT STRING's unused-bit count.
    fn close(&mut self, unused: u8);
}

/// Walks one complete BER element, checking it, with an explicit stack.
struct Walk<'a, S> {
    input: &'a [u8],
    limits: &'a Limits,
    stack: Vec<Frame>,
    elements: usize,
    sink: &'a mut S,
}

impl<'a, S: Sink> Walk<'a, S> {
    fn new(input: &'a [u8], limits: &'a Limits, sink: &'a mut S) -> Self {
        Walk {
            input,
            limits,
            stack: Vec::new(),
            elements: 0,
            sink,
        }
    }

    fn count_element(&mut self) -> Result<(), BerError> {
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            return Err(BerError::TooManyElements {
                max: self.limits.max_elements,
            });
        }
        Ok(())
    }

    fn push_frame(&mut self, h: &Header, mode: Mode, bound: Bound, element: bool) -> Result<(), BerError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(BerError::TooDeep {
                offset: h.start,
                max: self.limits.max_depth,
            });
        }
        let end = h.len.map(|l| h.content_start + l);
        let string = if element {
            self.stack.len()
        } else {
            self.stack.last().map_or(0, |f| f.string)
        };
        self.stack.push(Frame {
            start: h.start,
            end,
            bound: end.map_or(bound, Bound::Enclosing),
            mode,
            element,
            string,
            unused: 0,
        });
        Ok(())
    }

    /// Handles an element that is not a string segment. Returns the position after its
    /// header (constructed) or after the whole element (primitive).
    fn element(&mut self, h: &Header, bound: Bound) -> Result<usize, BerError> {
        check_form(h)?;
        let id = h.ident;
        if !id.constructed {
            self.sink.primitive(h);
            return Ok(node_end(h));
        }
        let (kind, mode) = if id.class == CLASS_UNIVERSAL && is_string_type(id.number) {
            let kind = if id.number == TAG_BIT_STRING {
                Open::FlatBitString
            } else {
                Open::FlatString
            };
            (kind, Mode::Segments { outer: id.number })
        } else if id.is_universal(TAG_SET) {
            (Open::Set, Mode::Children)
        } else {
            (Open::Constructed, Mode::Children)
        };
        self.push_frame(h, mode, bound, true)?;
        self.sink.open(h, kind);
        Ok(h.content_start)
    }

    /// Handles one segment of the constructed string whose own frame is `string`.
    fn segment(&mut self, h: &Header, string: usize, outer: u32, bound: Bound) -> Result<usize, BerError> {
        let id = h.ident;
        let mismatch = BerError::MismatchedConstructedString { offset: h.start };
        if id.class != CLASS_UNIVERSAL || !segment_allowed(outer, id.number) {
            return Err(mismatch);
        }
        if id.constructed {
            // §8.6.4 / §8.7.3: a segment may itself be constructed; its segments join the same
            // concatenation.
            self.push_frame(h, Mode::Segments { outer }, bound, false)?;
            return Ok(h.content_start);
        }
        let len = h.len.unwrap_or(0);
        let end = h.content_start + len;
        let mut data_start = h.content_start;
        if outer == TAG_BIT_STRING {
            // §8.6.4: every segment but the last has no unused bits; each segment carries its
            // own unused-bits octet (0..=7, and 0 when the segment holds no bits, §8.6.2.3).
            // Read from the segment's own contents: an empty segment must not borrow the next
            // element's first octet.
            let contents = self.input.get(h.content_start..end).unwrap_or(&[]);
            let unused = *contents.first().ok_or(mismatch.clone())?;
            let frame = self.stack.get_mut(string).ok_or(mismatch.clone())?;
            if frame.unused != 0 || unused > 7 || (len == 1 && unused != 0) {
                return Err(mismatch);
            }
            frame.unused = unused;
            data_start += 1;
        }
        self.sink.segment(data_start, end);
        Ok(end)
    }

    fn run(mut self) -> Result<usize, BerError> {
        let input = self.input;
        let h = read_header(input, 0, Bound::Input)?;
        self.count_element()?;
        if is_eoc(&h)? {
            return Err(BerError::BadTag { offset: 0 });
        }
        let mut pos = self.element(&h, Bound::Input)?;
        while let Some(&top) = self.stack.last() {
            match top.end {
                Some(end) if pos == end => {
                    self.close();
                    continue;
                }
                Some(_) => {}
                None if pos == top.bound.offset(input) => return Err(top.bound.overrun(top.start)),
                None => {}
            }
            let h = read_header(input, pos, top.bound)?;
            if is_eoc(&h)? {
                if top.end.is_some() {
                    // End-of-contents only terminates indefinite-length contents (§8.1.5).
                    return Err(BerError::BadTag { offset: h.start });
                }
                pos = h.content_start;
                self.close();
                continue;
            }
            self.count_element()?;
            pos = match top.mode {
                Mode::Children => self.element(&h, top.bound)?,
                Mode::Segments { outer } => self.segment(&h, top.string, outer, top.bound)?,
            };
        }
        Ok(pos)
    }

    fn close(&mut self) {
        if let Some(f) = self.stack.pop() {
            if f.element {
                self.sink.close(f.unused);
            }
        }
    }
}

fn node_end(h: &Header) -> usize {
    h.content_start + h.len.unwrap_or(0)
}

/// First pass: the DER contents length of every constructed element, in pre-order (a
/// flattened BIT STRING also records its unused-bit count after its length). Nothing else
/// is kept: primitives are measured from the input again when written.
struct Measure {
    max: usize,
    /// u32 entries: 4 octets per constructed element, and every element spans at least two
    /// input octets, so this is at most twice the input.
    lengths: Vec<u32>,
    /// Open elements: (slot in `lengths`, identifier, kind, contents length so far).
    open: Vec<(usize, Identifier, Open, usize)>,
    total: usize,
    too_large: bool,
}

impl Measure {
    fn add(&mut self, n: usize) {
        match self.open.last_mut() {
            Some(top) => top.3 = top.3.saturating_add(n),
            None => self.total = n,
        }
    }

    fn tlv(&mut self, ident: &Identifier, len: usize) {
        if len > self.max {
            self.too_large = true;
        }
        self.add(
            identifier_octets(ident)
                .saturating_add(length_octets(len))
                .saturating_add(len),
        );
    }
}

impl Sink for Measure {
    fn open(&mut self, h: &Header, kind: Open) {
        self.open.push((self.lengths.len(), h.ident, kind, 0));
        self.lengths.push(0);
        if kind == Open::FlatBitString {
            self.lengths.push(0);
        }
    }

    fn primitive(&mut self, h: &Header) {
        self.tlv(&h.ident, h.len.unwrap_or(0));
    }

    fn segment(&mut self, start: usize, end: usize) {
        if let Some(top) = self.open.last_mut() {
            top.3 = top.3.saturating_add(end - start);
        }
    }

    fn close(&mut self, unused: u8) {
        let Some((slot, ident, kind, acc)) = self.open.pop() else {
            return;
        };
        let len = acc.saturating_add(usize::from(kind == Open::FlatBitString));
        // A length beyond u32 is beyond any max_output govsig uses; it is refused as too large.
        let recorded = u32::try_from(len).unwrap_or_else(|_| {
            self.too_large = true;
            0
        });
        if let Some(s) = self.lengths.get_mut(slot) {
            *s = recorded;
        }
        if kind == Open::FlatBitString {
            if let Some(s) = self.lengths.get_mut(slot + 1) {
                *s = u32::from(unused);
            }
        }
        self.tlv(&ident, len);
    }
}

/// Second pass: writes DER, taking each constructed element's length from the first pass.
struct Write<'a> {
    input: &'a [u8],
    lengths: &'a [u32],
    next: usize,
    out: Vec<u8>,
    /// Open elements: (kind, offset of the contents in `out`).
    open: Vec<(Open, usize)>,
}

impl Write<'_> {
    fn next_length(&mut self) -> usize {
        let v = self.lengths.get(self.next).copied().unwrap_or(0);
        self.next += 1;
        usize::try_from(v).unwrap_or(0)
    }
}

impl Sink for Write<'_> {
    fn open(&mut self, h: &Header, kind: Open) {
        let ident = Identifier {
            constructed: matches!(kind, Open::Constructed | Open::Set),
            ..h.ident
        };
        write_identifier(&mut self.out, &ident);
        let len = self.next_length();
        write_length(&mut self.out, len);
        if kind == Open::FlatBitString {
            let unused = self.next_length();
            self.out.push(u8::try_from(unused).unwrap_or(0));
        }
        self.open.push((kind, self.out.len()));
    }

    fn primitive(&mut self, h: &Header) {
        let id = h.ident;
        let len = h.len.unwrap_or(0);
        write_identifier(&mut self.out, &id);
        write_length(&mut self.out, len);
        let contents = self.input.get(h.content_start..h.content_start + len).unwrap_or(&[]);
        if id.is_universal(TAG_BOOLEAN) && len == 1 {
            // X.690 §11.1: TRUE is encoded as 0xFF in DER.
            self.out.push(if contents.first() == Some(&0) { 0x00 } else { 0xFF });
        } else {
            self.out.extend_from_slice(contents);
            if id.is_universal(TAG_BIT_STRING) {
                if let Some(&unused) = contents.first() {
                    if contents.len() > 1 && (1..=7).contains(&unused) {
                        zero_padding(&mut self.out, unused);
                    }
                }
            }
        }
    }

    fn segment(&mut self, start: usize, end: usize) {
        self.out.extend_from_slice(self.input.get(start..end).unwrap_or(&[]));
    }

    fn close(&mut self, unused: u8) {
        match self.open.pop() {
            Some((Open::FlatBitString, _)) if unused != 0 => zero_padding(&mut self.out, unused),
            Some((Open::Set, start)) => sort_set(&mut self.out, start),
            _ => {}
        }
    }
}

/// The end of the DER element written at `out[at]`, within `end`.
fn der_element_end(out: &[u8], at: usize, end: usize) -> Option<usize> {
    let h = read_header(out, at, Bound::Enclosing(end)).ok()?;
    Some(h.content_start + h.len?)
}

/// Sorts the children of a SET, which occupy `out[start..]` (just written), by their
/// encodings (X.690 §11.6). Plain lexicographic order equals §11.6's zero-padded order here:
/// one complete TLV can never be a proper prefix of a different one, because equal leading
/// header octets mean equal lengths. Children are found by reading the DER just written, and
/// an already sorted SET (the usual case) allocates nothing.
fn sort_set(out: &mut [u8], start: usize) {
    let end = out.len();
    let element = |at: usize| der_element_end(out, at, end).map(|e| (at, e));
    let mut sorted = true;
    let mut prev: Option<(usize, usize)> = None;
    let mut at = start;
    let mut count = 0usize;
    while at < end {
        let Some(r) = element(at) else { return };
        if let Some(p) = prev {
            sorted &= out.get(p.0..p.1) <= out.get(r.0..r.1);
        }
        prev = Some(r);
        at = r.1;
        count += 1;
    }
    if sorted {
        return;
    }
    // Start offsets only (an end is read again from the header): 4 octets per child, at
    // least 2 octets each, in a vector sized exactly.
    let mut starts: Vec<u32> = Vec::with_capacity(count);
    let mut at = start;
    while at < end {
        let Some((s, e)) = element(at) else { return };
        let Ok(s32) = u32::try_from(s) else { return };
        starts.push(s32);
        at = e;
    }
    let key = |s: &u32| {
        let s = usize::try_from(*s).unwrap_or(usize::MAX);
        let e = der_element_end(out, s, end).unwrap_or(s);
        out.get(s..e).unwrap_or(&[])
    };
    // Equal keys are identical octets, so stability buys nothing.
    starts.sort_unstable_by(|x, y| key(x).cmp(key(y)));
    let mut copy = Vec::with_capacity(end - start);
    for s in &starts {
        copy.extend_from_slice(key(s));
    }
    if let Some(dst) = out.get_mut(start..end) {
        if dst.len() == copy.len() {
            dst.copy_from_slice(&copy);
        }
    }
}

/// X.690 §11.2.1: the unused bits of the final octet are zero in DER.
fn zero_padding(out: &mut [u8], unused: u8) {
    if let Some(last) = out.last_mut() {
        *last &= 0xFFu8 << unused;
    }
}

/// Normalise one complete BER TLV (the whole input must be exactly one element) to DER.
///
/// Memory is bounded by the input, whatever its shape: the input is walked twice (once to
/// measure, once to write) and nothing is kept per primitive element. Besides the output
/// (at most `max_output`; about the input's size) the working memory is a 4-octet length per
/// constructed element (every element spans at least two input octets) and, while a SET that
/// was not in order is sorted, 4 octets per child and one copy of its contents. With vector
/// growth that is at most about 6 octets per input octet in total (8 guaranteed), plus
/// `O(max_depth)`: the unit test `ber_memory` measures it on inputs built to be worst cases.
pub fn normalise(input: &[u8], limits: &Limits) -> Result<Vec<u8>, BerError> {
    let too_large = BerError::TooLarge { max: limits.max_output };
    let mut measure = Measure {
        max: limits.max_output,
        lengths: Vec::new(),
        open: Vec::new(),
        total: 0,
        too_large: false,
    };
    let end = Walk::new(input, limits, &mut measure).run()?;
    if end != input.len() {
        return Err(BerError::TrailingData { offset: end });
    }
    if measure.too_large || measure.total > limits.max_output {
        return Err(too_large);
    }
    // Growth slack is returned before the output is allocated beside it.
    measure.lengths.shrink_to_fit();
    let mut write = Write {
        input,
        lengths: &measure.lengths,
        next: 0,
        out: Vec::with_capacity(measure.total),
        open: Vec::new(),
    };
    // The same walk over the same input: it succeeds again, and in the same order.
    Walk::new(input, limits, &mut write).run()?;
    Ok(write.out)
}

/// True when `input` is already one DER-canonical TLV at the encoding level (definite minimal
/// lengths, primitive strings, minimal tags). Cheap pre-check.
///
/// Exactly the inputs that [`normalise`] returns unchanged: it also checks BOOLEAN values,
/// zero BIT STRING padding and universal SET ordering, and that the input is within `limits`.
pub fn is_der_encoded(input: &[u8], limits: &Limits) -> bool {
    check_der(input, limits).unwrap_or(false)
}

struct DerFrame {
    end: usize,
    /// For a universal SET: the previous child's encoding, to check §11.6 order.
    set: bool,
    prev: Option<(usize, usize)>,
}

fn check_der(input: &[u8], limits: &Limits) -> Result<bool, BerError> {
    if input.len() > limits.max_output {
        return Ok(false);
    }
    let mut stack: Vec<DerFrame> = Vec::new();
    let mut pos = 0usize;
    let mut elements = 0usize;
    loop {
        while let Some(top) = stack.last() {
            if pos != top.end {
                break;
            }
            stack.pop();
        }
        let bound = stack.last().map_or(Bound::Input, |f| Bound::Enclosing(f.end));
        if stack.is_empty() && elements > 0 {
            return Ok(pos == input.len());
        }
        let h = read_header(input, pos, bound)?;
        check_form(&h)?;
        elements += 1;
        if elements > limits.max_elements || is_eoc(&h)? || !h.minimal_len {
            return Ok(false);
        }
        let Some(len) = h.len else { return Ok(false) };
        let end = h.content_start + len;
        let id = h.ident;
        if let Some(top) = stack.last_mut() {
            if top.set {
                let this = input.get(h.start..end).unwrap_or(&[]);
                if let Some((a, b)) = top.prev {
                    if input.get(a..b).unwrap_or(&[]) > this {
                        return Ok(false);
                    }
                }
                top.prev = Some((h.start, end));
            }
        }
        if id.constructed {
            if id.class == CLASS_UNIVERSAL && is_string_type(id.number) {
                return Ok(false);
            }
            if stack.len() >= limits.max_depth {
                return Ok(false);
            }
            stack.push(DerFrame {
                end,
                set: id.is_universal(TAG_SET),
                prev: None,
            });
            pos = h.content_start;
            continue;
        }
        let contents = input.get(h.content_start..end).unwrap_or(&[]);
        if id.is_universal(TAG_BOOLEAN) && len == 1 && !matches!(contents, [0x00] | [0xFF]) {
            return Ok(false);
        }
        if id.is_universal(TAG_BIT_STRING) {
            if let (Some(&unused), Some(&last)) = (contents.first(), contents.last()) {
                if contents.len() > 1 && (1..=7).contains(&unused) && last & !(0xFFu8 << unused) != 0 {
                    return Ok(false);
                }
            }
        }
        pos = end;
    }
}
