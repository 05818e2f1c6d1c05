//! What an archive report line says about a document beyond its verdict: whether the
//! revocation status of its signers was established, and its path as text. Computed here
//! once for every front end (the JSON text of a line is assembled by the bindings).

use std::borrow::Cow;
use std::fmt::Write;

use crate::cms::verify::SignerOutcome;
use crate::outcome::Code;
use crate::revocation::{RevocationMode, RevocationStatus};

/// The `schema` value of every report line.
pub const REPORT_SCHEMA: &str = "govsig.report/1";

/// Whether the revocation status of a document's signers is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevocationSummary {
    /// Every certificate that needed a status has one (good, or revoked/on hold).
    Proven,
    /// Some status could not be established (soft-fail let the document pass).
    Unknown,
    /// Revocation is off, or no signer got as far as a checked path.
    NotChecked,
}

impl RevocationSummary {
    pub fn name(self) -> &'static str {
        match self {
            RevocationSummary::Proven => "proven",
            RevocationSummary::Unknown => "unknown",
            RevocationSummary::NotChecked => "not_checked",
        }
    }
}

fn proves_bad(code: Code) -> bool {
    matches!(code, Code::CertRevoked | Code::CertOnHold)
}

/// The [`RevocationSummary`] of a document whose verdict is `code` and whose signers are
/// `signers` (for a signed PDF, the signer of each of its signatures).
pub fn revocation_summary<'a, I>(mode: RevocationMode, code: Code, signers: I) -> RevocationSummary
where
    I: IntoIterator<Item = &'a SignerOutcome>,
    I::IntoIter: Clone,
{
    if mode == RevocationMode::Off {
        return RevocationSummary::NotChecked;
    }
    let signers = signers.into_iter();
    if proves_bad(code) || signers.clone().any(|s| proves_bad(s.code)) {
        return RevocationSummary::Proven;
    }
    // Hard-fail stops a signer whose status is undetermined before any evidence is kept:
    // its status was sought and not found, which is "unknown", not "not checked".
    if code == Code::RevocationUnknown || signers.clone().any(|s| s.code == Code::RevocationUnknown) {
        return RevocationSummary::Unknown;
    }
    // The only evidence was refused for its algorithm (`algorithm_not_allowed` with the path
    // kept): sought, found, and unusable, which is "unknown" too.
    let refused_status = |s: &SignerOutcome| {
        s.code == Code::AlgorithmNotAllowed
            && s.decided_by
                .0
                .as_ref()
                .is_some_and(|d| d.1.iter().any(|e| matches!(e.status, RevocationStatus::Unknown(_))))
    };
    if signers.clone().any(refused_status) {
        return RevocationSummary::Unknown;
    }
    if signers.clone().all(|s| s.revocation.is_empty()) {
        return RevocationSummary::NotChecked;
    }
    // A certificate revoked after the signature time has a known status too.
    let known = |s: &SignerOutcome| {
        !s.revocation.is_empty()
            && s.revocation
                .iter()
                .all(|e| matches!(e.status, RevocationStatus::Good | RevocationStatus::Revoked(_)))
    };
    if signers.clone().all(known) {
        RevocationSummary::Proven
    } else {
        RevocationSummary::Unknown
    }
}

/// Whether `c` is written as a `\\uXXXX` escape in report JSON: controls (Cc: C0, DEL, C1
/// such as NEL and the 8-bit CSI 0x9b), format characters (Cf: bidi overrides such as U+202E,
/// zero-width characters) and the line and paragraph separators U+2028/U+2029 (Zl, Zp).
/// JSON itself escapes only C0; raw, the others split a line for readers that honour them,
/// reorder what a terminal or browser shows, or reach a terminal as control sequences. The
/// same rule as the Python writers (`govsig._cli_text.inert_json`).
pub fn json_escapes(c: char) -> bool {
    use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory};
    !(' '..='~').contains(&c)
        && matches!(
            c.general_category(),
            G::Control | G::Format | G::LineSeparator | G::ParagraphSeparator
        )
}

/// Appends `v` to `out` as a JSON string: quotes, backslash and the short escapes as
/// `json.dumps` writes them, every character [`json_escapes`] names as `\\uXXXX` (a
/// surrogate pair above U+FFFF), everything else as is. The text loads back to `v`.
pub fn write_json_string(out: &mut String, v: &str) {
    out.push('"');
    // Runs that need no escape are copied whole: report text is mostly such runs.
    let mut start = 0;
    for (i, c) in v.char_indices() {
        let short = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            c if json_escapes(c) => "",
            _ => continue,
        };
        out.push_str(&v[start..i]);
        if short.is_empty() {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{u:04x}");
            }
        } else {
            out.push_str(short);
        }
        start = i + c.len_utf8();
    }
    out.push_str(&v[start..]);
    out.push('"');
}

/// A path's report fields: the text shown (`\xNN` for each byte that is not UTF-8) and,
/// for a name that is not UTF-8, its exact bytes in standard base64.
pub fn path_fields(path: &[u8]) -> (Cow<'_, str>, Option<String>) {
    if let Ok(s) = std::str::from_utf8(path) {
        return (Cow::Borrowed(s), None);
    }
    let mut shown = String::with_capacity(path.len() + 16);
    for chunk in path.utf8_chunks() {
        shown.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(shown, "\\x{b:02x}");
        }
    }
    (Cow::Owned(shown), Some(base64_encode(path)))
}

/// Standard base64 (RFC 4648 §4) with padding.
pub fn base64_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for group in data.chunks(3) {
        let b = [group[0], *group.get(1).unwrap_or(&0), *group.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= group.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), coded);
        }
    }

    #[test]
    fn path_fields_escape_each_byte_that_is_not_utf8() {
        assert_eq!(path_fields("a/é.p7s".as_bytes()), (Cow::Borrowed("a/é.p7s"), None));
        let (shown, raw) = path_fields(b"a\xff\xe2\x82b\xe2\x82\xac.p7s");
        assert_eq!(shown, "a\\xff\\xe2\\x82b€.p7s");
        assert_eq!(raw.as_deref(), Some("Yf/igmLigqwucDdz"));
    }

    #[test]
    fn json_strings_escape_controls_format_characters_and_separators() {
        let mut out = String::new();
        let text = "a\"\\\n\t\u{0}\u{7f}\u{85}\u{9b}\u{2028}\u{2029}\u{202e}\u{200b}\u{feff}\u{e0001}Hà Nội€";
        write_json_string(&mut out, text);
        assert_eq!(
            out,
            "\"a\\\"\\\\\\n\\t\\u0000\\u007f\\u0085\\u009b\\u2028\\u2029\\u202e\\u200b\\ufeff\\udb40\\udc01Hà Nội€\""
        );
        let back: String = serde_json::from_str(&out).unwrap();
        assert_eq!(back, text);
        assert!(out.chars().all(|c| !json_escapes(c)));
    }

    #[test]
    fn revocation_off_is_not_checked_whatever_the_verdict() {
        let s = revocation_summary(RevocationMode::Off, Code::CertRevoked, std::iter::empty());
        assert_eq!(s, RevocationSummary::NotChecked);
        let s = revocation_summary(RevocationMode::SoftFail, Code::CertRevoked, std::iter::empty());
        assert_eq!(s, RevocationSummary::Proven);
        let s = revocation_summary(RevocationMode::HardFail, Code::Ok, std::iter::empty());
        assert_eq!(s, RevocationSummary::NotChecked);
        let s = revocation_summary(RevocationMode::HardFail, Code::RevocationUnknown, std::iter::empty());
        assert_eq!(s, RevocationSummary::Unknown);
    }
}
