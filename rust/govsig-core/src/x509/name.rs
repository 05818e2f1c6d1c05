//! Distinguished names: comparison per RFC 5280 §7.1 and display per RFC 4514.
//!
//! RFC 5280 §7.1 asks for the RFC 4518 string preparation when comparing names. govsig
//! implements the parts that matter for real PKIs and for PKITS 4.3: strings of any directory
//! string type compare by their characters (a PrintableString equals the same UTF8String),
//! case-insensitively, with leading/trailing whitespace removed and inner runs of whitespace
//! collapsed. Attribute values that are not strings compare by their exact DER.

use asn1::Tlv;
use govsig_asn1::common::AttributeTypeAndValue;

/// A parsed distinguished name. Cheap to compare and hash through [`Name::key`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name {
    der: Vec<u8>,
    key: Vec<u8>,
    rdns: Vec<Vec<Atv>>,
}

/// One attribute of an RDN, with its value decoded when it is a string.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Atv {
    pub oid: String,
    /// The OID's content octets (no tag or length).
    pub oid_der: Vec<u8>,
    /// The decoded string, for directory string types.
    pub text: Option<String>,
    /// The value's full TLV.
    pub value_der: Vec<u8>,
}

/// Why a name could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError(pub String);

const UTF8: u8 = 0x0c;
const NUMERIC: u8 = 0x12;
const PRINTABLE: u8 = 0x13;
const TELETEX: u8 = 0x14;
const IA5: u8 = 0x16;
const VISIBLE: u8 = 0x1a;
const UNIVERSAL: u8 = 0x1c;
const BMP: u8 = 0x1e;

/// Decodes a directory string TLV; `None` for non-string values or invalid encodings.
pub fn decode_string(tlv: &Tlv<'_>) -> Option<String> {
    let data = tlv.data();
    match tlv.tag().as_u8()? {
        UTF8 | NUMERIC | PRINTABLE | IA5 | VISIBLE => std::str::from_utf8(data).ok().map(str::to_owned),
        // T.61 in practice carries Latin-1 text.
        TELETEX => Some(data.iter().map(|&b| char::from(b)).collect()),
        BMP => {
            if data.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = data.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16(&units).ok()
        }
        UNIVERSAL => {
            if data.len() % 4 != 0 {
                return None;
            }
            data.chunks_exact(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect()
        }
        _ => None,
    }
}

/// RFC 4518 §2 simplified: case fold, trim, collapse inner whitespace; into `out`, cleared
/// first (one buffer serves every attribute of a name).
fn prepare_into(s: &str, out: &mut String) {
    out.clear();
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for ch in word.chars() {
            out.extend(ch.to_lowercase());
        }
    }
}

/// One attribute's part of the comparison key: its OID, then its prepared text (`S`) or, for
/// a value that is not a string, its exact DER (`R`), each length-prefixed.
fn push_key_part(out: &mut Vec<u8>, a: &Atv, scratch: &mut String) {
    push_len_prefixed(out, &a.oid_der);
    match &a.text {
        Some(t) => {
            out.push(b'S');
            prepare_into(t, scratch);
            push_len_prefixed(out, scratch.as_bytes());
        }
        None => {
            out.push(b'R');
            push_len_prefixed(out, &a.value_der);
        }
    }
}

fn push_len_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

impl Name {
    /// Parses a `Name` from its full DER TLV (a SEQUENCE OF RDN).
    pub fn from_der(der: &[u8]) -> Result<Name, NameError> {
        let rdns = asn1::parse_single::<asn1::SequenceOf<'_, asn1::SetOf<'_, AttributeTypeAndValue<'_>>>>(der)
            .map_err(|e| {
                NameError(format!(
                    "name is not a DER RDNSequence: {}",
                    govsig_asn1::common::explain(&e)
                ))
            })?;
        let mut parsed = Vec::new();
        let mut key = Vec::with_capacity(der.len() + 64);
        let mut scratch = String::new();
        for rdn in rdns {
            let mut atvs = Vec::with_capacity(1);
            for atv in rdn {
                let oid_der = atv.type_id.as_der().to_vec();
                atvs.push(Atv {
                    oid: crate::oidtext::dotted(&atv.type_id),
                    oid_der,
                    text: decode_string(&atv.value),
                    value_der: atv.value.full_data().to_vec(),
                });
            }
            key.extend_from_slice(&(atvs.len() as u64).to_be_bytes());
            if let [only] = atvs.as_slice() {
                push_key_part(&mut key, only, &mut scratch);
            } else {
                // The key of a multi-valued RDN must not depend on attribute order.
                let mut parts: Vec<Vec<u8>> = atvs
                    .iter()
                    .map(|a| {
                        let mut p = Vec::new();
                        push_key_part(&mut p, a, &mut scratch);
                        p
                    })
                    .collect();
                parts.sort();
                for p in parts {
                    key.extend_from_slice(&p);
                }
            }
            parsed.push(atvs);
        }
        Ok(Name {
            der: der.to_vec(),
            key,
            rdns: parsed,
        })
    }

    /// The exact DER received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The comparison key: equal keys mean equal names under RFC 5280 §7.1.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    pub fn rdns(&self) -> &[Vec<Atv>] {
        &self.rdns
    }

    pub fn is_empty(&self) -> bool {
        self.rdns.is_empty()
    }

    /// RFC 5280 §7.1 name matching.
    pub fn matches(&self, other: &Name) -> bool {
        self.key == other.key
    }

    /// RFC 5280 §4.2.1.10 directoryName subtree: `self` is within `base` when `base`'s RDNs
    /// are its leading RDNs, each compared as in [`Name::matches`]. The key encodes each RDN
    /// as a count followed by length-prefixed parts, a prefix code, so a byte prefix of keys
    /// is exactly a prefix of RDNs (no "O=Ex" within "O=Example" confusion).
    pub fn is_within_subtree(&self, base: &Name) -> bool {
        self.key.starts_with(&base.key)
    }

    /// Every attribute in certificate order (the most general RDN first, as encoded; the
    /// attributes of a multi-valued RDN in their encoded order): its short name (`CN`, `O`,
    /// `UID`, ...) or dotted OID, and its text exactly as decoded, or `#` and the hex of the
    /// value's DER when it is not a string (RFC 4514 §2.4).
    pub fn fields(&self) -> Vec<(String, String)> {
        self.rdns
            .iter()
            .flatten()
            .map(|a| {
                let ty = short_name(&a.oid).map_or_else(|| a.oid.clone(), str::to_owned);
                let value = match &a.text {
                    Some(t) => t.clone(),
                    None => format!("#{}", hex::encode(&a.value_der)),
                };
                (ty, value)
            })
            .collect()
    }

    /// The values of attributes with the given dotted OID (e.g. emailAddress).
    pub fn values_of(&self, oid: &str) -> Vec<&str> {
        self.rdns
            .iter()
            .flatten()
            .filter(|a| a.oid == oid)
            .filter_map(|a| a.text.as_deref())
            .collect()
    }
}

/// The conventional short name of an attribute type (`CN`, `O`, `UID`, ...), when it has one.
pub fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.42" => "GN",
        "2.5.4.97" => "organizationIdentifier",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "1.2.840.113549.1.9.1" => "emailAddress",
        _ => return None,
    })
}

/// RFC 4514 §2.4: the special characters anywhere, `#` or a space first, a space last. A
/// value that is one space is escaped once (`\ `), not once as first and again as last.
fn escape_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let last = s.chars().count().saturating_sub(1);
    for (i, ch) in s.chars().enumerate() {
        let needs = matches!(ch, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && (ch == '#' || ch == ' '))
            || (i == last && ch == ' ');
        if needs {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

impl std::fmt::Display for Name {
    /// RFC 4514 form: most specific RDN first (`CN=..., O=..., C=VN`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for rdn in self.rdns.iter().rev() {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            for (i, atv) in rdn.iter().enumerate() {
                if i > 0 {
                    f.write_str("+")?;
                }
                match short_name(&atv.oid) {
                    Some(n) => f.write_str(n)?,
                    None => f.write_str(&atv.oid)?,
                }
                f.write_str("=")?;
                match &atv.text {
                    Some(t) => f.write_str(&escape_value(t))?,
                    None => {
                        f.write_str("#")?;
                        f.write_str(&hex::encode(&atv.value_der))?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::der::tlv;

    fn cn(value: &str) -> Name {
        let atv = tlv(0x30, &[tlv(0x06, &[0x55, 4, 3]), tlv(0x0c, value.as_bytes())].concat());
        Name::from_der(&tlv(0x30, &tlv(0x31, &atv))).expect("test name")
    }

    #[test]
    fn rfc4514_escapes_each_special_character_once() {
        assert_eq!(cn(" ").to_string(), "CN=\\ ");
        assert_eq!(cn("  ").to_string(), "CN=\\ \\ ");
        assert_eq!(cn(" a ").to_string(), "CN=\\ a\\ ");
        assert_eq!(cn("#1 a, b+c").to_string(), "CN=\\#1 a\\, b\\+c");
        assert_eq!(cn("Sở Tư pháp").to_string(), "CN=Sở Tư pháp");
    }
}
