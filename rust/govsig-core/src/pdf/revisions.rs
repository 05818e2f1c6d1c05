//! A PDF's revisions: the original document and each incremental update (ISO 32000-1
//! §7.5.6), revision k being what a reader saw when the file ended at its `%%EOF`.
//!
//! The only hand-written scanning is for the end markers (`startxref N %%EOF`); every object,
//! cross-reference table or stream, and object stream is read by lopdf. The file is parsed
//! in full once (its last revision); an earlier revision's prefix has only its
//! cross-reference chain read (lopdf's metadata reader: no objects beyond the catalog and
//! page tree) to prove it is a revision, and is parsed in full only when a signature can be
//! in it or after it ([`load_revision`], decided by the caller). A profile of bulk
//! verification showed the repeated full parses of every prefix at nearly half the time.
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
    /// The revision as lopdf reads it; `None` until [`load_revision`] (the last revision is
    /// always loaded).
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

/// Every `startxref N %%EOF` in the file, in file order.
fn markers(pdf: &[u8]) -> Vec<Marker> {
    const EOF: &[u8] = b"%%EOF";
    const STARTXREF: &[u8] = b"startxref";
    let mut out = Vec::new();
    for at in memchr::memmem::find_iter(pdf, EOF) {
        let i = at + EOF.len();
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
            continue;
        }
        let Some(xref) = std::str::from_utf8(&pdf[j..digits_end])
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
        else {
            continue;
        };
        let digits_start = j;
        while j > 0 && is_ws(pdf[j - 1]) {
            j -= 1;
        }
        if j == digits_start || j < STARTXREF.len() || &pdf[j - STARTXREF.len()..j] != STARTXREF {
            continue;
        }
        let end = i;
        let end_with_eol = match pdf.get(end..end + 2) {
            Some(b"\r\n") => end + 2,
            _ => match pdf.get(end) {
                Some(b'\r') | Some(b'\n') => end + 1,
                _ => end,
            },
        };
        out.push(Marker {
            xref,
            end,
            end_with_eol,
        });
    }
    out
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

/// The revisions of `pdf`, oldest first. Bytes other than whitespace after the last
/// revision make the file malformed: they are a truncated or unreadable update, and a
/// verdict on the revisions before it would not be a verdict on the file.
pub fn read_revisions(pdf: &[u8], limits: &PdfLimits) -> Result<Vec<Revision>, Malformed> {
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
    let marks = markers(pdf);
    let Some(last) = marks.last().copied() else {
        return Err(Malformed("no `startxref N %%EOF` trailer: not a complete PDF".into()));
    };
    if marks.len() > limits.max_revisions * 4 {
        return Err(Malformed(format!(
            "{} end-of-file markers; govsig reads at most {} revisions",
            marks.len(),
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
    let mut revs: Vec<Revision> = Vec::new();
    for m in marks {
        let prefix = &pdf[..m.end_with_eol];
        let start = revs.last().map_or(0, |p| p.end_with_eol);
        // The cross-reference section of a revision lies inside it and after the previous
        // revision: anything else is a marker quoted inside some object.
        let placed = m.xref >= start && m.xref < m.end;
        let doc = if m == last {
            let doc = load(prefix, limits).map_err(|e| Malformed(format!("the PDF does not parse: {e}")))?;
            if doc.xref_start != m.xref || !placed {
                return Err(Malformed(
                    "the last startxref does not point at the cross-reference data the file is read with".into(),
                ));
            }
            Some(doc)
        } else {
            // Only the cross-reference chain (and the catalog's page tree) is read here.
            let read_as_written =
                placed && Document::load_metadata_mem(prefix).is_ok_and(|md| md.xref_recovery.is_none());
            if !read_as_written {
                continue;
            }
            None
        };
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
    }
    if !pdf[last.end_with_eol..].iter().all(|&b| is_ws(b)) {
        return Err(Malformed(format!(
            "{} bytes after the last %%EOF are not a readable revision (a truncated or damaged update)",
            pdf.len() - last.end_with_eol
        )));
    }
    Ok(revs)
}

/// Parses revision `k` in full (a no-op when it already is). A revision that read as written
/// from its cross-reference chain but does not load in full is `pdf_malformed`.
pub fn load_revision(pdf: &[u8], revs: &mut [Revision], k: usize, limits: &PdfLimits) -> Result<(), Malformed> {
    let Some(r) = revs.get_mut(k) else {
        return Err(Malformed(format!("no revision {k}")));
    };
    if r.doc.is_some() {
        return Ok(());
    }
    let doc =
        load(&pdf[..r.end_with_eol], limits).map_err(|e| Malformed(format!("revision {k} does not parse: {e}")))?;
    r.doc = Some(doc);
    Ok(())
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
        assert!(read_revisions(b"hello", &PdfLimits::default()).is_err());
        assert!(read_revisions(b"%PDF-1.7\n%%EOF", &PdfLimits::default()).is_err());
    }
}
