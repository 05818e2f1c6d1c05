//! Relative payload paths: the canonical (NFC, `/`-separated) form and the BagIt manifest
//! encoding of it.

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use super::error::DossierError;

/// Normalises a relative payload path to its canonical form: Unicode NFC (Vietnamese names
/// arrive both precomposed and decomposed, and must name the same entry), `/` separators,
/// no empty, `.` or `..` component (a manifest entry escaping `data/` is the classic
/// path-traversal attack on bag readers).
pub fn normalize_relpath(path: &str) -> Result<String, DossierError> {
    let invalid = |reason| DossierError::InvalidRelpath {
        path: path.to_owned(),
        reason,
    };
    if path.is_empty() {
        return Err(invalid("the path is empty"));
    }
    if path.contains('\0') {
        return Err(invalid("the path contains a NUL character"));
    }
    if path.starts_with('/') {
        return Err(invalid("the path is absolute; give it relative to the dossier root"));
    }
    let nfc = to_nfc(path);
    for component in nfc.split('/') {
        match component {
            "" => return Err(invalid("the path has an empty component (// or a trailing /)")),
            "." | ".." => return Err(invalid("the path has a . or .. component")),
            _ => {}
        }
    }
    Ok(nfc)
}

/// NFC form of `s`, without allocating a second time when it already is NFC.
pub(crate) fn to_nfc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_nfc(&mut out, s);
    out
}

/// Appends the NFC form of `s` to `out`, copying it as is when it already is NFC.
pub(crate) fn push_nfc(out: &mut String, s: &str) {
    match is_nfc_quick(s.chars()) {
        IsNormalized::Yes => out.push_str(s),
        _ => out.extend(s.nfc()),
    }
}

/// Appends the manifest form of a relpath: RFC 8493 §2.1.3 requires CR, LF and `%` in file
/// paths to be percent-encoded (and only those), so a name cannot break a manifest line.
pub fn encode_manifest_path(relpath: &str, out: &mut String) {
    for c in relpath.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            _ => out.push(c),
        }
    }
}

/// Inverse of [`encode_manifest_path`]. Only `%25`, `%0A` and `%0D` (any case) are decoded;
/// any other `%` is kept as written, since some BagIt writers do not encode `%` at all.
pub fn decode_manifest_path(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        let decoded = match tail.get(1..3) {
            Some(h) if h.eq_ignore_ascii_case("25") => Some('%'),
            Some(h) if h.eq_ignore_ascii_case("0a") => Some('\n'),
            Some(h) if h.eq_ignore_ascii_case("0d") => Some('\r'),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[3..];
            }
            None => {
                out.push('%');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfd_and_nfc_normalise_alike() {
        let nfc = "h\u{1ed3} s\u{01a1}.pdf"; // "hồ sơ.pdf" precomposed
        let nfd: String = nfc.nfd().collect();
        assert_ne!(nfc, nfd);
        assert_eq!(normalize_relpath(&nfd).unwrap(), nfc);
        assert_eq!(normalize_relpath(nfc).unwrap(), nfc);
    }

    #[test]
    fn traversal_and_malformed_paths_are_rejected() {
        for bad in ["", "/etc/passwd", "a/../b", "./a", "a//b", "a/", "..", "a\0b"] {
            assert!(
                matches!(normalize_relpath(bad), Err(DossierError::InvalidRelpath { .. })),
                "{bad:?} accepted"
            );
        }
        assert_eq!(normalize_relpath("a/b c/d.pdf").unwrap(), "a/b c/d.pdf");
    }

    #[test]
    fn manifest_encoding_round_trips() {
        let name = "50% off\nline\rx.pdf";
        let mut enc = String::new();
        encode_manifest_path(name, &mut enc);
        assert_eq!(enc, "50%25 off%0Aline%0Dx.pdf");
        assert_eq!(decode_manifest_path(&enc), name);
        assert_eq!(decode_manifest_path("a%0ab%zz%"), "a\nb%zz%");
    }
}
