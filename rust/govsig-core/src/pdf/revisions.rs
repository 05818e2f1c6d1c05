//! A PDF's revisions: the original document and each incremental update (ISO 32000-1
//! §7.5.6), revision k being what a reader saw when the file ended at its `%%EOF`.
//!
//! The only hand-written scanning is for the end markers (`startxref N %%EOF`); every object,
//! cross-reference table or stream, and object stream is read by lopdf. The file is parsed
//! in full once (its last revision, [`read_last`]); an earlier revision's prefix is parsed in
//! full only when a signature can be in it or after it (decided by the caller from the last
//! revision, [`LastRead::revisions`]), and otherwise has only its cross-reference chain read
//! (lopdf's metadata reader: no objects beyond the catalog and page tree) to prove it is a
//! revision. A profile of bulk verification showed the repeated full parses of every prefix
//! at nearly half the time.
//!
//! Defensive choices:
//! - a marker counts only when lopdf reads the prefix ending there *as written* (no
//!   cross-reference repair or offset correction): a `%%EOF` inside a stream, or a prefix
//!   lopdf had to guess at, is not a revision (repaired offsets are how a shadow document
//!   would be slipped past the reader);
//! - the last revision must read as written, or the file is `pdf_malformed`;
//! - caps on file size, revisions, objects and decompressed stream size bound time and memory.

use lopdf::{Document, LoadOptions};

/// Limits on what a PDF may make the verifier do.
#[derive(Clone, Copy, Debug)]
pub struct PdfLimits {
    /// Largest file accepted, in bytes.
    pub max_bytes: usize,
    /// Most revisions (the original plus incremental updates) read.
    pub max_revisions: usize,
    /// Most objects in one revision.
    pub max_objects: usize,
    /// Largest size one stream may decompress to while loading.
    pub max_decompressed: usize,
    /// Most signature fields examined.
    pub max_signatures: usize,
    /// Deepest field tree (/Kids) or object graph walked.
    pub max_depth: usize,
    /// Most bytes parsed over all revisions (each revision is the file's prefix, so a file
    /// with many updates is parsed many times over).
    pub max_parsed_bytes: usize,
}

impl Default for PdfLimits {
    fn default() -> Self {
        PdfLimits {
            max_bytes: 1 << 30,
            max_revisions: 64,
            max_objects: 500_000,
            max_decompressed: 64 << 20,
            max_signatures: 128,
            max_depth: 32,
            max_parsed_bytes: 4 << 30,
        }
    }
}

/// One revision: where it ends in the file and what a reader sees there.
pub struct Revision {
    /// Offset just past `%%EOF` (the signed range of a signature made in this revision
    /// ends here, or after the end-of-line that follows: see `end_with_eol`).
    pub end: usize,
    /// `end` plus the end-of-line written after `%%EOF`, if any.
    pub end_with_eol: usize,
    /// Where the revision's own bytes start (the previous revision's `end_with_eol`).
    pub start: usize,
    /// The revision as lopdf reads it, when it was parsed in full (the last revision always
    /// is).
    pub doc: Option<Document>,
}

/// A `startxref N %%EOF` marker: N and where the marker ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Marker {
    xref: usize,
    end: usize,
    end_with_eol: usize,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

/// The `startxref N %%EOF` marker whose `%%EOF` starts at `at`, if the bytes before it
/// spell one.
fn marker_at(pdf: &[u8], at: usize) -> Option<Marker> {
    const STARTXREF: &[u8] = b"startxref";
    let end = at + EOF.len();
    // Walk back over whitespace, the decimal offset, whitespace, then `startxref`.
    let mut j = at;
    while j > 0 && is_ws(pdf[j - 1]) {
        j -= 1;
    }
    let digits_end = j;
    while j > 0 && pdf[j - 1].is_ascii_digit() {
        j -= 1;
    }
    if j == digits_end || digits_end - j > 15 {
        return None;
    }
    let xref = std::str::from_utf8(&pdf[j..digits_end]).ok()?.parse::<usize>().ok()?;
    let digits_start = j;
    while j > 0 && is_ws(pdf[j - 1]) {
        j -= 1;
    }
    if j == digits_start || j < STARTXREF.len() || &pdf[j - STARTXREF.len()..j] != STARTXREF {
        return None;
    }
    let end_with_eol = match pdf.get(end..end + 2) {
        Some(b"\r\n") => end + 2,
        _ => match pdf.get(end) {
            Some(b'\r') | Some(b'\n') => end + 1,
            _ => end,
        },
    };
    Some(Marker {
        xref,
        end,
        end_with_eol,
    })
}

const EOF: &[u8] = b"%%EOF";
const BYTE_RANGE: &[u8] = b"/ByteRange";
/// Bytes a match of either needle (with the end-of-line after `%%EOF`) can reach past its
/// start: a scan of a prefix stops this short of the prefix's end.
const LOOKAHEAD: usize = 10;

/// What one pass over a file finds before anything is parsed: every `startxref N %%EOF`
/// marker, and where `/ByteRange` first occurs (see `first_signed_revision` in the parent
/// module). Both are looked for in one piece of the file after the other, so that the
/// second search reads what the first left in the CPU's first-level cache.
pub struct Prescan {
    eof: memchr::memmem::Finder<'static>,
    byte_range: memchr::memmem::Finder<'static>,
    /// Matches starting before this offset have been handled.
    scanned: usize,
    markers: Vec<Marker>,
    /// Markers found beyond those kept (more than a file may have).
    extra_markers: usize,
    first_byte_range: Option<usize>,
    max_markers: usize,
}

/// The size of the pieces [`Prescan::of`] searches.
const PIECE: usize = 16 << 10;

impl Prescan {
    fn new(limits: &PdfLimits) -> Self {
        Prescan {
            eof: memchr::memmem::Finder::new(EOF),
            byte_range: memchr::memmem::Finder::new(BYTE_RANGE),
            scanned: 0,
            markers: Vec::new(),
            extra_markers: 0,
            first_byte_range: None,
            max_markers: limits.max_revisions.saturating_mul(4),
        }
    }

    /// Scans `pdf`.
    pub fn of(pdf: &[u8], limits: &PdfLimits) -> Self {
        let mut s = Prescan::new(limits);
        let mut end = PIECE;
        while end < pdf.len() {
            s.advance(&pdf[..end], false);
            end += PIECE;
        }
        s.advance(pdf, true);
        s
    }

    /// Scans what `read` (the file's first bytes, a longer prefix than at the previous call)
    /// adds; `complete` when `read` is the whole file.
    fn advance(&mut self, read: &[u8], complete: bool) {
        let limit = if complete {
            read.len()
        } else {
            read.len().saturating_sub(LOOKAHEAD)
        };
        if limit <= self.scanned {
            return;
        }
        let from = self.scanned;
        let hay = &read[from..(limit + EOF.len() - 1).min(read.len())];
        for at in self.eof.find_iter(hay).map(|i| from + i).take_while(|&at| at < limit) {
            if let Some(m) = marker_at(read, at) {
                if self.markers.len() <= self.max_markers {
                    self.markers.push(m);
                } else {
                    self.extra_markers += 1;
                }
            }
        }
        if self.first_byte_range.is_none() {
            let hay = &read[from..(limit + BYTE_RANGE.len() - 1).min(read.len())];
            self.first_byte_range = self.byte_range.find(hay).map(|i| from + i).filter(|&at| at < limit);
        }
        self.scanned = limit;
    }

    /// Where `/ByteRange` first occurs in the file.
    pub fn first_byte_range(&self) -> Option<usize> {
        self.first_byte_range
    }
}

/// Every `startxref N %%EOF` in the file, in file order.
#[cfg(test)]
fn markers(pdf: &[u8]) -> Vec<Marker> {
    Prescan::of(pdf, &PdfLimits::default()).markers
}

/// Why a file could not be read as a PDF.
#[derive(Clone, Debug)]
pub struct Malformed(pub String);

fn load(prefix: &[u8], limits: &PdfLimits) -> Result<Document, String> {
    let opts = LoadOptions {
        max_decompressed_size: Some(limits.max_decompressed),
        ..LoadOptions::default()
    };
    let doc = Document::load_mem_with_options(prefix, opts).map_err(|e| e.to_string())?;
    if doc.xref_recovery.is_some() {
        return Err(
            "its cross-reference data does not describe the file as written (a reader would have to repair it)".into(),
        );
    }
    if doc.objects.len() > limits.max_objects {
        return Err(format!(
            "it has {} objects; govsig reads at most {}",
            doc.objects.len(),
            limits.max_objects
        ));
    }
    Ok(doc)
}

/// A file whose last revision is read (lopdf's full parse) and whose other end markers are
/// not looked at yet: [`read_last`], then [`LastRead::revisions`] once the caller knows
/// which earlier revisions it needs in full.
pub struct LastRead<'s> {
    marks: &'s [Marker],
    last: Document,
}

/// Reads the last revision of `pdf` (`scan` is the file's [`Prescan`]). Bytes other than
/// whitespace after it make the file malformed: they are a truncated or unreadable update,
/// and a verdict on the revisions before it would not be a verdict on the file.
pub fn read_last<'s>(pdf: &[u8], scan: &'s Prescan, limits: &PdfLimits) -> Result<LastRead<'s>, Malformed> {
    if pdf.len() > limits.max_bytes {
        return Err(Malformed(format!(
            "the file is {} bytes; govsig reads PDFs of at most {} bytes",
            pdf.len(),
            limits.max_bytes
        )));
    }
    if !pdf.starts_with(b"%PDF-") {
        return Err(Malformed("the file does not start with a %PDF- header".into()));
    }
    let marks = scan.markers.as_slice();
    let Some(last) = marks.last().copied() else {
        return Err(Malformed("no `startxref N %%EOF` trailer: not a complete PDF".into()));
    };
    if marks.len() + scan.extra_markers > limits.max_revisions * 4 {
        return Err(Malformed(format!(
            "{} end-of-file markers; govsig reads at most {} revisions",
            marks.len() + scan.extra_markers,
            limits.max_revisions
        )));
    }
    let parsed: usize = marks.iter().map(|m| m.end_with_eol).fold(0, usize::saturating_add);
    if parsed > limits.max_parsed_bytes {
        return Err(Malformed(format!(
            "{} revisions of up to {} bytes would mean parsing {parsed} bytes; govsig parses at most {}",
            marks.len(),
            pdf.len(),
            limits.max_parsed_bytes
        )));
    }
    let doc = load(&pdf[..last.end_with_eol], limits).map_err(|e| Malformed(format!("the PDF does not parse: {e}")))?;
    if doc.xref_start != last.xref || last.xref >= last.end {
        return Err(Malformed(
            "the last startxref does not point at the cross-reference data the file is read with".into(),
        ));
    }
    if !pdf[last.end_with_eol..].iter().all(|&b| is_ws(b)) {
        return Err(Malformed(format!(
            "{} bytes after the last %%EOF are not a readable revision (a truncated or damaged update)",
            pdf.len() - last.end_with_eol
        )));
    }
    Ok(LastRead { marks, last: doc })
}

impl LastRead<'_> {
    /// The last revision.
    pub fn doc(&self) -> &Document {
        &self.last
    }

    /// Where each end marker of the file ends (`end`, `end_with_eol` as in [`Revision`]), in
    /// file order: the revisions are among them.
    pub fn ends(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.marks.iter().map(|m| (m.end, m.end_with_eol))
    }

    /// The revisions of the file, oldest first: each prefix ending at an end marker that
    /// reads as written. Those that end after byte `full_after` are parsed in full (their
    /// `doc`); of the others only the cross-reference chain (and the catalog's page tree) is
    /// read, by lopdf's metadata reader, to prove them revisions.
    pub fn revisions(self, pdf: &[u8], full_after: usize, limits: &PdfLimits) -> Result<Vec<Revision>, Malformed> {
        let Some((&last, earlier)) = self.marks.split_last() else {
            return Err(Malformed("no `startxref N %%EOF` trailer: not a complete PDF".into()));
        };
        let mut revs: Vec<Revision> = Vec::new();
        let push = |revs: &mut Vec<Revision>, m: Marker, start: usize, doc: Option<Document>| {
            if revs.len() == limits.max_revisions {
                return Err(Malformed(format!(
                    "more than {} revisions; govsig reads at most that many",
                    limits.max_revisions
                )));
            }
            revs.push(Revision {
                end: m.end,
                end_with_eol: m.end_with_eol,
                start,
                doc,
            });
            Ok(())
        };
        for &m in earlier {
            let prefix = &pdf[..m.end_with_eol];
            let start = revs.last().map_or(0, |p| p.end_with_eol);
            // The cross-reference section of a revision lies inside it and after the previous
            // revision: anything else is a marker quoted inside some object.
            if !(m.xref >= start && m.xref < m.end) {
                continue;
            }
            let metadata_as_written = || Document::load_metadata_mem(prefix).is_ok_and(|md| md.xref_recovery.is_none());
            let doc = if m.end_with_eol > full_after {
                // A full parse as written proves the revision as the metadata reader would,
                // except for encryption, which the metadata reader treats differently.
                match load(prefix, limits) {
                    Ok(doc) if doc.encryption_state.is_none() && !doc.trailer.has(b"Encrypt") => Some(doc),
                    Ok(doc) if metadata_as_written() => Some(doc),
                    Ok(_) => continue,
                    // Read as written from its cross-reference chain, but not in full.
                    Err(e) if metadata_as_written() => {
                        return Err(Malformed(format!("revision {} does not parse: {e}", revs.len())))
                    }
                    Err(_) => continue,
                }
            } else if metadata_as_written() {
                None
            } else {
                continue;
            };
            push(&mut revs, m, start, doc)?;
        }
        let start = revs.last().map_or(0, |p| p.end_with_eol);
        if last.xref < start {
            return Err(Malformed(
                "the last startxref does not point at the cross-reference data the file is read with".into(),
            ));
        }
        push(&mut revs, last, start, Some(self.last))?;
        Ok(revs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_need_startxref_and_an_offset() {
        let m = markers(b"%PDF-1.7\nstartxref\n123\n%%EOF\nxx %%EOF\nstartxref 9 %%EOF");
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].xref, 123);
        assert_eq!(m[0].end_with_eol, m[0].end + 1);
        assert_eq!(m[1].xref, 9);
    }

    #[test]
    fn the_piecewise_scan_finds_what_a_whole_search_finds() {
        let marker = b"startxref\n123\n%%EOF\r\n";
        for shift in [0usize, 1, 3, 5, 7, 9, 10, 11, 20] {
            let mut pdf = vec![b'x'; 5 * PIECE + 100];
            // Markers and a `/ByteRange` across each piece boundary, `shift` bytes early.
            for k in 1..=3 {
                let at = k * PIECE - shift;
                pdf[at - marker.len() + 7..at + 7].copy_from_slice(marker);
            }
            let br = 4 * PIECE + 50 - shift;
            pdf[br..br + BYTE_RANGE.len()].copy_from_slice(BYTE_RANGE);
            pdf[4 * PIECE - shift..4 * PIECE - shift + BYTE_RANGE.len()].copy_from_slice(BYTE_RANGE);
            let scan = Prescan::of(&pdf, &PdfLimits::default());
            let whole: Vec<Marker> = memchr::memmem::find_iter(&pdf, EOF)
                .filter_map(|at| marker_at(&pdf, at))
                .collect();
            assert_eq!(scan.markers, whole, "shift {shift}");
            assert_eq!(scan.markers.len(), 3);
            assert!(scan.markers.iter().all(|m| m.end_with_eol == m.end + 2));
            assert_eq!(
                scan.first_byte_range(),
                memchr::memmem::find(&pdf, BYTE_RANGE),
                "shift {shift}"
            );
        }
    }

    #[test]
    fn not_a_pdf_is_malformed() {
        let limits = PdfLimits::default();
        for pdf in [&b"hello"[..], b"%PDF-1.7\n%%EOF"] {
            assert!(read_last(pdf, &Prescan::of(pdf, &limits), &limits).is_err());
        }
    }
}
