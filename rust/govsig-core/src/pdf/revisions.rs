//! A PDF's revisions: the original document and each incremental update (ISO 32000-1
//! §7.5.6), revision k being what a reader saw when the file ended at its `%%EOF`.
//!
//! The only hand-written scanning is for the end markers (`startxref N %%EOF`); each
//! revision is then opened by [`super::lazy::Doc`], which reads its cross-reference chain
//! (tables and streams, by pdf-rs) and afterwards only the objects asked for.
//!
//! Defensive choices:
//! - a marker counts only when the prefix ending there reads as written: its `startxref`
//!   points at cross-reference data whose chain reads, with no repair or offset correction
//!   (a `%%EOF` inside a stream, or a prefix a reader would have to guess at, is not a
//!   revision: repaired offsets are how a shadow document would be slipped past a reader);
//! - the last revision must read as written, or the file is `pdf_malformed`;
//! - caps on file size, revisions, objects and decompressed stream size bound time and memory.

use super::lazy::{Doc, Shared};

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
    /// Most objects listed over all the revisions of a file (each revision lists every
    /// object of its cross-reference chain, so a file whose updates each point back at one
    /// large section would otherwise hold that section once per revision).
    pub max_objects_all_revisions: usize,
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
            max_objects_all_revisions: 2_000_000,
        }
    }
}

/// One revision: where it ends in the file and what a reader sees there.
pub struct Revision<'p> {
    /// Offset just past `%%EOF` (the signed range of a signature made in this revision
    /// ends here, or after the end-of-line that follows: see `end_with_eol`).
    pub end: usize,
    /// `end` plus the end-of-line written after `%%EOF`, if any.
    pub end_with_eol: usize,
    /// Where the revision's own bytes start (the previous revision's `end_with_eol`).
    pub start: usize,
    /// The revision as read (lazily: objects are parsed when asked for).
    pub doc: Doc<'p>,
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

/// What one pass over a file finds before anything is parsed: every `startxref N %%EOF`
/// marker.
pub struct Prescan {
    markers: Vec<Marker>,
    /// Markers found beyond those kept (more than a file may have).
    extra_markers: usize,
}

impl Prescan {
    /// Scans `pdf`.
    pub fn of(pdf: &[u8], limits: &PdfLimits) -> Self {
        let max_markers = limits.max_revisions.saturating_mul(4);
        let mut s = Prescan {
            markers: Vec::new(),
            extra_markers: 0,
        };
        for at in memchr::memmem::find_iter(pdf, EOF) {
            if let Some(m) = marker_at(pdf, at) {
                if s.markers.len() <= max_markers {
                    s.markers.push(m);
                } else {
                    s.extra_markers += 1;
                }
            }
        }
        s
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

/// A file whose last revision is open and whose other end markers are not looked at yet:
/// [`read_last`], then [`LastRead::revisions`].
pub struct LastRead<'s, 'p> {
    marks: &'s [Marker],
    last: Doc<'p>,
    shared: &'p Shared,
}

/// Reads the last revision of `pdf` (`scan` is the file's [`Prescan`]). Bytes other than
/// whitespace after it make the file malformed: they are a truncated or unreadable update,
/// and a verdict on the revisions before it would not be a verdict on the file.
pub fn read_last<'s, 'p>(
    pdf: &'p [u8],
    scan: &'s Prescan,
    shared: &'p Shared,
    limits: &PdfLimits,
) -> Result<LastRead<'s, 'p>, Malformed> {
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
    if last.xref >= last.end {
        return Err(Malformed(
            "the last startxref does not point at the cross-reference data the file is read with".into(),
        ));
    }
    let doc = Doc::open(&pdf[..last.end_with_eol], last.xref, limits, shared)
        .map_err(|e| Malformed(format!("the PDF does not parse: {e}")))?;
    if !pdf[last.end_with_eol..].iter().all(|&b| is_ws(b)) {
        return Err(Malformed(format!(
            "{} bytes after the last %%EOF are not a readable revision (a truncated or damaged update)",
            pdf.len() - last.end_with_eol
        )));
    }
    Ok(LastRead {
        marks,
        last: doc,
        shared,
    })
}

impl<'p> LastRead<'_, 'p> {
    /// The last revision.
    pub fn doc(&self) -> &Doc<'p> {
        &self.last
    }

    /// The revisions of the file, oldest first: each prefix ending at an end marker that
    /// reads as written (its cross-reference chain opens).
    pub fn revisions(self, pdf: &'p [u8], limits: &PdfLimits) -> Result<Vec<Revision<'p>>, Malformed> {
        let Some((&last, earlier)) = self.marks.split_last() else {
            return Err(Malformed("no `startxref N %%EOF` trailer: not a complete PDF".into()));
        };
        let mut revs: Vec<Revision<'p>> = Vec::new();
        let push = |revs: &mut Vec<Revision<'p>>, m: Marker, start: usize, doc: Doc<'p>| {
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
            let doc = match Doc::open(prefix, m.xref, limits, self.shared) {
                Ok(doc) => doc,
                // A revision past govsig's bounds is the file's answer: leaving it out
                // would hide what it holds (a signature a later update removed).
                Err(e) if self.shared.exceeded().is_some() => {
                    return Err(Malformed(format!("the revision ending at byte {}: {e}", m.end)));
                }
                // A marker quoted inside some object, or a damaged earlier update.
                Err(_) => continue,
            };
            push(&mut revs, m, start, doc)?;
        }
        let start = revs.last().map_or(0, |p| p.end_with_eol);
        if last.xref < start {
            return Err(Malformed(
                "the last startxref does not point at the cross-reference data the file is read with".into(),
            ));
        }
        push(&mut revs, last, start, self.last)?;
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
    fn not_a_pdf_is_malformed() {
        let limits = PdfLimits::default();
        for pdf in [&b"hello"[..], b"%PDF-1.7\n%%EOF"] {
            assert!(read_last(pdf, &Prescan::of(pdf, &limits), &Shared::default(), &limits).is_err());
        }
    }
}
