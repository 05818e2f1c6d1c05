//! BagIt (RFC 8493) tag files: bagit.txt, bag-info.txt and the tag manifest.

use super::algorithm::HashAlgorithm;
use super::error::DossierError;
use super::manifest::{parse_lines, Manifest};
use super::relpath::{encode_manifest_path, normalize_relpath};

/// The BagIt version govsig writes.
pub const BAGIT_VERSION: &str = "1.0";

/// The bag-info.txt label carrying the dossier's Merkle root, as `<algorithm>:<hex>`.
pub const ROOT_LABEL: &str = "Govsig-Dossier-Root";

/// Labels govsig computes itself; a caller-supplied value would contradict the payload.
const RESERVED_LABELS: [&str; 3] = ["Payload-Oxum", "Bagging-Date", ROOT_LABEL];

/// The bag declaration, RFC 8493 §2.1.1, byte for byte.
pub fn bagit_txt() -> Vec<u8> {
    format!("BagIt-Version: {BAGIT_VERSION}\nTag-File-Character-Encoding: UTF-8\n").into_bytes()
}

/// The bag-info.txt fields of `manifest`: the agent, Bagging-Date and Payload-Oxum
/// (RFC 8493 §2.2.2: `<octet count>.<stream count>`), our root, then `extra` as given.
pub fn bag_info_fields(
    manifest: &Manifest,
    bagging_date: &str,
    software_agent: &str,
    extra: &[(String, String)],
) -> Result<Vec<(String, String)>, DossierError> {
    if let Some((label, _)) = extra
        .iter()
        .find(|(l, _)| RESERVED_LABELS.iter().any(|r| r.eq_ignore_ascii_case(l.trim())))
    {
        return Err(DossierError::TagFile {
            line: 0,
            reason: format!("{label:?} is computed by govsig and cannot be supplied"),
        });
    }
    let mut fields = vec![
        ("Bag-Software-Agent".to_owned(), software_agent.to_owned()),
        ("Bagging-Date".to_owned(), bagging_date.to_owned()),
        (
            "Payload-Oxum".to_owned(),
            format!("{}.{}", manifest.total_bytes(), manifest.len()),
        ),
        (
            ROOT_LABEL.to_owned(),
            format!("{}:{}", manifest.algorithm().name(), hex::encode(manifest.root())),
        ),
    ];
    fields.extend(extra.iter().cloned());
    Ok(fields)
}

/// Serialises tag-file fields as `Label: value` lines (RFC 8493 §2.2.2). Values with line
/// breaks are refused rather than folded: a folded value is read back differently by
/// different tools.
pub fn tag_file_bytes(fields: &[(String, String)]) -> Result<Vec<u8>, DossierError> {
    let mut out = String::new();
    for (i, (label, value)) in fields.iter().enumerate() {
        let bad = |reason: String| DossierError::TagFile { line: i + 1, reason };
        if label.is_empty() || label.trim() != label || label.contains([':', '\r', '\n']) {
            return Err(bad(format!(
                "label {label:?} must be non-empty, without ':', line breaks or surrounding spaces"
            )));
        }
        // Readers strip a byte order mark at the start of a file (parse_tag_file does too),
        // so a first label starting with U+FEFF would be read back as another label.
        if label.starts_with('\u{feff}') {
            return Err(bad(format!(
                "label {label:?} starts with U+FEFF, which readers take for a byte order mark"
            )));
        }
        if value.contains(['\r', '\n']) {
            return Err(bad(format!("the value of {label:?} contains a line break")));
        }
        out.push_str(label);
        out.push_str(": ");
        out.push_str(value);
        out.push('\n');
    }
    Ok(out.into_bytes())
}

/// Parses a tag file (bagit.txt, bag-info.txt): `Label: value` lines, where a line starting
/// with a space or tab continues the previous value (RFC 8493 §2.2.2).
pub fn parse_tag_file(text: &[u8]) -> Result<Vec<(String, String)>, DossierError> {
    let text = std::str::from_utf8(text).map_err(|_| DossierError::TagFile {
        line: 0,
        reason: "not valid UTF-8".to_owned(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut fields: Vec<(String, String)> = Vec::new();
    for (i, line) in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match fields.last_mut() {
                Some((_, value)) => {
                    // Values are trimmed: an empty one continued is the continuation alone.
                    if !value.is_empty() {
                        value.push(' ');
                    }
                    value.push_str(line.trim());
                }
                None => {
                    return Err(DossierError::TagFile {
                        line: i + 1,
                        reason: "a continuation line before any label".to_owned(),
                    })
                }
            }
            continue;
        }
        let (label, value) = line.split_once(':').ok_or_else(|| DossierError::TagFile {
            line: i + 1,
            reason: format!("expected 'Label: value', found {line:?}"),
        })?;
        if label.trim().is_empty() {
            return Err(DossierError::TagFile {
                line: i + 1,
                reason: "empty label".to_owned(),
            });
        }
        fields.push((label.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(fields)
}

/// The bytes of tagmanifest-<alg>.txt over the given tag files (name relative to the bag
/// root, content), sorted by name (RFC 8493 §2.2.1).
pub fn tagmanifest_bytes(algorithm: HashAlgorithm, files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, DossierError> {
    let mut lines = Vec::with_capacity(files.len());
    for (name, content) in files {
        let name = normalize_relpath(name)?;
        let mut line = hex::encode(algorithm.digest(content));
        line.push(' ');
        encode_manifest_path(&name, &mut line);
        lines.push((name, line));
    }
    lines.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    if let Some(p) = lines.windows(2).find(|p| p[0].0 == p[1].0) {
        return Err(DossierError::DuplicatePath { path: p[0].0.clone() });
    }
    let mut out = String::new();
    for (_, line) in lines {
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out.into_bytes())
}

/// Parses a tag manifest: (tag file name relative to the bag root, digest).
pub fn parse_tagmanifest(algorithm: HashAlgorithm, text: &[u8]) -> Result<Vec<(String, Vec<u8>)>, DossierError> {
    parse_lines(algorithm, text)?
        .into_iter()
        .map(|(line, path, digest)| {
            normalize_relpath(&path)
                .map(|p| (p, digest))
                .map_err(|e| DossierError::Manifest {
                    line,
                    reason: e.to_string(),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dossier::ManifestEntry;

    #[test]
    fn bag_info_has_oxum_and_root() {
        let a = HashAlgorithm::Sha256;
        let m = Manifest::from_entries(
            a,
            vec![ManifestEntry {
                relpath: "x".into(),
                size: 7,
                digest: a.digest(b"1234567"),
                source: None,
            }],
        )
        .unwrap();
        let extra = [("Source-Organization".to_owned(), "Sở Tư pháp".to_owned())];
        let fields = bag_info_fields(&m, "2025-01-02", "govsig 0.1.0", &extra).unwrap();
        let bytes = tag_file_bytes(&fields).unwrap();
        let parsed = parse_tag_file(&bytes).unwrap();
        assert_eq!(parsed, fields);
        assert!(parsed.contains(&("Payload-Oxum".to_owned(), "7.1".to_owned())));
        let root = format!("sha256:{}", hex::encode(m.root()));
        assert!(parsed.contains(&(ROOT_LABEL.to_owned(), root)));
        let clash = [("payload-oxum".to_owned(), "1.1".to_owned())];
        assert!(bag_info_fields(&m, "d", "a", &clash).is_err());
        assert!(tag_file_bytes(&[("A".into(), "x\ny".into())]).is_err());
        assert!(tag_file_bytes(&[("A:B".into(), "x".into())]).is_err());
    }

    #[test]
    fn tag_file_continuations_and_errors() {
        let parsed = parse_tag_file(b"A: one\r\n  two\nB:three\n").unwrap();
        assert_eq!(parsed, [("A".into(), "one two".into()), ("B".into(), "three".into())]);
        assert!(parse_tag_file(b" lead\n").is_err());
        assert!(parse_tag_file(b"no colon\n").is_err());
        assert_eq!(
            String::from_utf8(bagit_txt()).unwrap(),
            "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
        );
    }

    /// Found by fuzz/fuzz_targets/bagit_tag_file.rs: fields read from a tag file must read
    /// back the same after `tag_file_bytes` writes them.
    #[test]
    fn tag_file_fields_survive_a_write_and_a_read() {
        // A continuation of an empty value was read as " two"; written as "A:  two", that
        // read back as "two".
        let folded = parse_tag_file(b"A:\n  two\nB: one\n\tmore\n").unwrap();
        assert_eq!(folded, [("A".into(), "two".into()), ("B".into(), "one more".into())]);
        assert_eq!(parse_tag_file(&tag_file_bytes(&folded).unwrap()).unwrap(), folded);
        // Behind a byte order mark, a label may itself start with U+FEFF; written first in a
        // file, that character would be read back as the byte order mark and dropped.
        let fields = parse_tag_file("\u{feff}\u{feff}Label: x\n".as_bytes()).unwrap();
        assert_eq!(fields, [("\u{feff}Label".into(), "x".into())]);
        match tag_file_bytes(&fields) {
            Err(DossierError::TagFile { line: 1, reason }) => assert!(reason.contains("byte order mark"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tagmanifest_round_trips() {
        let a = HashAlgorithm::Sha256;
        let files = vec![
            ("manifest-sha256.txt".to_owned(), b"m".to_vec()),
            ("bagit.txt".to_owned(), bagit_txt()),
        ];
        let text = tagmanifest_bytes(a, &files).unwrap();
        let parsed = parse_tagmanifest(a, &text).unwrap();
        assert_eq!(parsed[0], ("bagit.txt".to_owned(), a.digest(&bagit_txt())));
        assert_eq!(parsed[1], ("manifest-sha256.txt".to_owned(), a.digest(b"m")));
    }
}
