//! Vietnamese personal and organisation identifiers carried in a certificate's subject.
//!
//! Vietnamese CAs write identifiers into the subject as `PREFIX:value` text, most often in
//! UID attributes (0.9.2342.19200300.100.1.1): `CCCD:` (citizen identity card, 12 digits),
//! `CMND:` (the older identity card, 9 or 12 digits), `MST:` (tax code, 10 digits, or 10 and a
//! branch suffix such as `0312345678-029`) and `HC:` (passport). A name may carry several,
//! in several UID attributes or in one value (`CCCD:001…, MST:031…`); older certificates put
//! `MST:` in another attribute (ST, OU, even CN). Civil servants' certificates issued by the
//! government CA often carry none at all: that is not an error, the list is simply empty.
//!
//! So every string attribute is scanned, in certificate order, for a known prefix that starts
//! a word (a prefix glued to a preceding letter or digit, as in `ABCMST:1`, is not one), then
//! `:` (spaces around it tolerated), then the value: the run of ASCII letters, digits and `-`
//! that follows. Values are kept verbatim; nothing is guessed from text without a prefix.
//!
//! The 12-digit personal identification number on a CCCD is also the holder's personal tax
//! code (Law on Tax Administration 38/2019/QH14 art. 35 and Circular 86/2024/TT-BTC, in
//! force from 1 July 2025): a 12-digit `CCCD:` value is therefore also listed as an `MST`,
//! marked [`Identifier::derived`], so that an inventory looked up by tax code finds the
//! person. A value written as `MST:` is never copied the other way.

use crate::x509::name::{short_name, Name};

/// The kinds of identifier recognised, by the prefix that introduces them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdentifierKind {
    /// Căn cước công dân: the citizen identity card (12 digits).
    Cccd,
    /// Mã số thuế: a tax code (organisation or person), with any branch suffix.
    Mst,
    /// Chứng minh nhân dân: the identity card CCCD replaced.
    Cmnd,
    /// Hộ chiếu: a passport number.
    Hc,
}

impl IdentifierKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [IdentifierKind; 4] = [
        IdentifierKind::Cccd,
        IdentifierKind::Mst,
        IdentifierKind::Cmnd,
        IdentifierKind::Hc,
    ];

    /// The prefix as written in certificates, and the key reports use.
    pub fn label(self) -> &'static str {
        match self {
            IdentifierKind::Cccd => "CCCD",
            IdentifierKind::Mst => "MST",
            IdentifierKind::Cmnd => "CMND",
            IdentifierKind::Hc => "HC",
        }
    }
}

/// One identifier found in a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identifier {
    pub kind: IdentifierKind,
    pub value: String,
    /// The attribute it was read from (`UID`, `ST`, ... or a dotted OID).
    pub attribute: String,
    /// Not written with this prefix: a 12-digit CCCD listed as the personal tax code.
    pub derived: bool,
}

/// The identifiers of a name, in the order found, each value once per kind.
pub fn identifiers(name: &Name) -> Vec<Identifier> {
    let mut found: Vec<Identifier> = Vec::new();
    for atv in name.rdns().iter().flatten() {
        let Some(text) = atv.text.as_deref() else { continue };
        for (kind, value) in scan(text) {
            if !found.iter().any(|f| f.kind == kind && f.value == value) {
                let attribute = short_name(&atv.oid).map_or_else(|| atv.oid.clone(), str::to_owned);
                found.push(Identifier {
                    kind,
                    value: value.to_owned(),
                    attribute,
                    derived: false,
                });
            }
        }
    }
    let personal_tax_codes: Vec<Identifier> = found
        .iter()
        .filter(|f| f.kind == IdentifierKind::Cccd && is_personal_number(&f.value))
        .filter(|c| {
            !found
                .iter()
                .any(|f| f.kind == IdentifierKind::Mst && f.value == c.value)
        })
        .map(|c| Identifier {
            kind: IdentifierKind::Mst,
            derived: true,
            ..c.clone()
        })
        .collect();
    found.extend(personal_tax_codes);
    found
}

/// The values of each kind that occurs, kinds in [`IdentifierKind::ALL`] order (a name with
/// no identifier gives an empty list).
pub fn identifiers_by_kind(name: &Name) -> Vec<(&'static str, Vec<String>)> {
    let all = identifiers(name);
    IdentifierKind::ALL
        .iter()
        .filter_map(|&k| {
            let values: Vec<String> = all.iter().filter(|i| i.kind == k).map(|i| i.value.clone()).collect();
            (!values.is_empty()).then(|| (k.label(), values))
        })
        .collect()
}

fn is_personal_number(v: &str) -> bool {
    v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit())
}

/// `(kind, value)` for each prefixed identifier in one attribute's text.
fn scan(text: &str) -> Vec<(IdentifierKind, &str)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut prev: Option<char> = None;
    for (i, ch) in text.char_indices() {
        let at_word_start = prev.is_none_or(|p| !p.is_alphanumeric());
        prev = Some(ch);
        if !at_word_start || !ch.is_ascii_alphabetic() {
            continue;
        }
        for kind in IdentifierKind::ALL {
            let label = kind.label().as_bytes();
            let Some(head) = bytes.get(i..i + label.len()) else {
                continue;
            };
            if !head.eq_ignore_ascii_case(label) {
                continue;
            }
            let mut j = i + label.len();
            j += count_spaces(&bytes[j..]);
            if bytes.get(j) != Some(&b':') {
                continue;
            }
            j += 1;
            j += count_spaces(&bytes[j..]);
            let len = bytes[j..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
                .count();
            // Every byte of the value is ASCII, so both ends are char boundaries.
            let value = text[j..j + len].trim_end_matches('-');
            if !value.is_empty() {
                out.push((kind, value));
            }
        }
    }
    out
}

fn count_spaces(b: &[u8]) -> usize {
    b.iter().take_while(|c| **c == b' ').count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::der::tlv;

    const UID: &[u8] = &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01];
    const CN: &[u8] = &[0x55, 4, 3];
    const ST: &[u8] = &[0x55, 4, 8];
    const O: &[u8] = &[0x55, 4, 10];
    const C: &[u8] = &[0x55, 4, 6];

    /// A name from (attribute OID body, UTF8String value) pairs, one RDN each, in order.
    fn name(attrs: &[(&[u8], &str)]) -> Name {
        let mut rdns = Vec::new();
        for (oid, value) in attrs {
            let tag = if *oid == C { 0x13 } else { 0x0c };
            rdns.extend(tlv(
                0x31,
                &tlv(0x30, &[tlv(0x06, oid), tlv(tag, value.as_bytes())].concat()),
            ));
        }
        Name::from_der(&tlv(0x30, &rdns)).expect("test name")
    }

    fn by_kind(n: &Name) -> Vec<(&'static str, Vec<String>)> {
        identifiers_by_kind(n)
    }

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn several_uid_attributes_and_the_cccd_as_personal_tax_code() {
        let n = name(&[
            (C, "VN"),
            (UID, "CCCD:001085012345"),
            (UID, "CMND:012345678"),
            (CN, "Nguyễn Văn An"),
        ]);
        assert_eq!(
            by_kind(&n),
            vec![
                ("CCCD", v(&["001085012345"])),
                ("MST", v(&["001085012345"])),
                ("CMND", v(&["012345678"])),
            ]
        );
        let ids = identifiers(&n);
        let mst = ids.iter().find(|i| i.kind == IdentifierKind::Mst).unwrap();
        assert!(mst.derived, "the tax code was not written as MST: it is derived");
        assert_eq!(mst.attribute, "UID");
    }

    #[test]
    fn several_identifiers_in_one_value_with_branch_suffix() {
        let n = name(&[(UID, "MST:0312345678-029, CCCD: 079201000123 ;HC:B1234567")]);
        assert_eq!(
            by_kind(&n),
            vec![
                ("CCCD", v(&["079201000123"])),
                ("MST", v(&["0312345678-029", "079201000123"])),
                ("HC", v(&["B1234567"])),
            ]
        );
    }

    #[test]
    fn mst_in_another_attribute_of_an_older_certificate() {
        let n = name(&[
            (C, "VN"),
            (ST, "MST:0101234567"),
            (O, "Công ty TNHH Hải Âu, chi nhánh Hà Nội"),
        ]);
        assert_eq!(by_kind(&n), vec![("MST", v(&["0101234567"]))]);
        assert_eq!(identifiers(&n)[0].attribute, "ST");
    }

    #[test]
    fn no_identifier_is_empty_and_text_without_a_prefix_is_not_guessed() {
        let n = name(&[
            (C, "VN"),
            (O, "Ủy ban nhân dân tỉnh Hà Giang"),
            (CN, "Trần Thị Bình 0312345678"),
        ]);
        assert!(identifiers(&n).is_empty());
        assert!(by_kind(&n).is_empty());
    }

    #[test]
    fn a_prefix_must_start_a_word_and_be_followed_by_a_value() {
        // "PHC:" and "ABCMST:" are not prefixes; "MST:" with nothing after it has no value.
        let n = name(&[(CN, "PHC:1 ABCMST:2 MST: , hc : c7654321, Đường MST:0300000001-")]);
        assert_eq!(by_kind(&n), vec![("MST", v(&["0300000001"])), ("HC", v(&["c7654321"]))]);
    }

    #[test]
    fn a_value_repeated_is_listed_once_and_an_explicit_mst_is_not_duplicated() {
        let n = name(&[
            (UID, "CCCD:001085012345"),
            (UID, "MST:001085012345"),
            (ST, "CCCD:001085012345"),
        ]);
        let ids = identifiers(&n);
        assert_eq!(ids.len(), 2);
        assert!(ids.iter().all(|i| !i.derived));
    }

    #[test]
    fn a_cccd_that_is_not_twelve_digits_is_not_a_tax_code() {
        let n = name(&[(UID, "CCCD:12345")]);
        assert_eq!(by_kind(&n), vec![("CCCD", v(&["12345"]))]);
    }

    #[test]
    fn fields_keep_order_short_names_and_exact_text() {
        let n = name(&[
            (C, "VN"),
            (ST, "Hà Giang"),
            (O, "Sở Tư pháp, tỉnh Hà Giang"),
            (UID, "MST:0312345678"),
            (&[0x2b, 6, 1, 4, 1, 0x82, 0x37, 1], "x"),
        ]);
        assert_eq!(
            n.fields(),
            vec![
                ("C".to_owned(), "VN".to_owned()),
                ("ST".to_owned(), "Hà Giang".to_owned()),
                ("O".to_owned(), "Sở Tư pháp, tỉnh Hà Giang".to_owned()),
                ("UID".to_owned(), "MST:0312345678".to_owned()),
                ("1.3.6.1.4.1.311.1".to_owned(), "x".to_owned()),
            ]
        );
    }
}
