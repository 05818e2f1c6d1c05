//! Types shared by X.509, CRLs, OCSP and CMS.

use asn1::{ParseResult, SimpleAsn1Readable, Tag, Tlv};

/// `AlgorithmIdentifier` (RFC 5280 §4.1.1.2). Parameters stay raw: the algorithm table in
/// govsig-core matches the whole DER of the identifier, not a loose reading of it.
#[derive(asn1::Asn1Read, asn1::Asn1Write, Clone, Debug, PartialEq, Eq, Hash)]
pub struct AlgorithmIdentifier<'a> {
    pub oid: asn1::ObjectIdentifier,
    pub params: Option<Tlv<'a>>,
}

/// `Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }` (RFC 5280 §4.1.2.5).
/// Both forms are DER-strict: seconds present, `Z`, no fractions.
#[derive(asn1::Asn1Read, asn1::Asn1Write, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Time {
    UtcTime(asn1::UtcTime),
    GeneralizedTime(asn1::X509GeneralizedTime),
}

impl Time {
    pub fn as_datetime(&self) -> &asn1::DateTime {
        match self {
            Time::UtcTime(t) => t.as_datetime(),
            Time::GeneralizedTime(t) => t.as_datetime(),
        }
    }
}

/// `AttributeTypeAndValue` (RFC 5280 §4.1.2.4); the value keeps its string type tag.
#[derive(asn1::Asn1Read, asn1::Asn1Write, Clone, Debug, PartialEq, Eq, Hash)]
pub struct AttributeTypeAndValue<'a> {
    pub type_id: asn1::ObjectIdentifier,
    pub value: Tlv<'a>,
}

/// A SET (or SET OF) whose element order is not checked.
///
/// DER requires SET OF elements sorted by encoding (X.690 §11.6), but CMS producers in the
/// wild emit unsorted `certificates`, `crls` and attribute sets. Refusing those would reject
/// valid signatures for an encoding nit that carries no security meaning: the signature over
/// signed attributes is checked over the exact bytes received (RFC 5652 §5.4).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LenientSet<'a> {
    data: &'a [u8],
}

impl<'a> SimpleAsn1Readable<'a> for LenientSet<'a> {
    const TAG: Tag = <asn1::Set<'a> as SimpleAsn1Readable<'a>>::TAG;
    fn parse_data(data: &'a [u8]) -> ParseResult<Self> {
        // Validate that the content is a sequence of well-formed TLVs.
        asn1::parse(data, |p| {
            while !p.is_empty() {
                p.read_element::<Tlv<'a>>()?;
            }
            Ok(())
        })?;
        Ok(LenientSet { data })
    }
}

impl<'a> LenientSet<'a> {
    /// The raw content octets (the concatenated elements).
    pub fn content(&self) -> &'a [u8] {
        self.data
    }

    /// The elements as raw TLVs, in the order received.
    pub fn elements(&self) -> Vec<Tlv<'a>> {
        let mut out = Vec::new();
        // Content was validated in parse_data; a failure here cannot happen, but it is
        // handled rather than unwrapped.
        let _: ParseResult<()> = asn1::parse(self.data, |p| {
            while !p.is_empty() {
                out.push(p.read_element::<Tlv<'a>>()?);
            }
            Ok(())
        });
        out
    }

    /// Parses every element as `T`.
    pub fn parse_all<T: asn1::Asn1Readable<'a>>(&self) -> ParseResult<Vec<T>> {
        asn1::parse(self.data, |p| {
            let mut out = Vec::new();
            while !p.is_empty() {
                out.push(p.read_element::<T>()?);
            }
            Ok(out)
        })
    }
}

/// Splits `data` into its top-level TLVs.
pub fn split_tlvs(data: &[u8]) -> ParseResult<Vec<Tlv<'_>>> {
    asn1::parse(data, |p| {
        let mut out = Vec::new();
        while !p.is_empty() {
            out.push(p.read_element::<Tlv<'_>>()?);
        }
        Ok(out)
    })
}

/// A parse error in words for a person: what was wrong with the bytes, never the parser's
/// debug text (`Tag { value: 4, .. }`) nor its internal names. Display it where a reason
/// shows why an input was refused.
pub struct Explained<'a>(pub &'a asn1::ParseError);

/// See [`Explained`].
pub fn explain(e: &asn1::ParseError) -> Explained<'_> {
    Explained(e)
}

impl std::fmt::Display for Explained<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use asn1::ParseErrorKind as K;
        match self.0.kind() {
            K::InvalidValue => f.write_str("an element holds a value its type does not allow"),
            K::InvalidTag => f.write_str("an element's tag is not validly encoded"),
            K::InvalidLength => f.write_str("an element's length is not validly encoded in DER (or exceeds 4 GiB)"),
            K::InvalidSize { min, max, actual } => write!(
                f,
                "a collection holds {actual} element(s) where {min} to {max} are allowed"
            ),
            K::UnexpectedTag { actual } => write!(f, "found {} where another type belongs", tag_name(actual)),
            K::ShortData { needed } => write!(f, "truncated: {needed} more byte(s) needed"),
            K::IntegerOverflow => f.write_str("an integer is too large"),
            K::ExtraData => f.write_str("unexpected bytes follow the element"),
            K::InvalidSetOrdering => f.write_str("a SET OF is not in DER order"),
            K::EncodedDefault => f.write_str("a DEFAULT value is written out, which DER forbids"),
            K::OidTooLong => f.write_str("an OBJECT IDENTIFIER is too long to read"),
            K::UnknownDefinedBy => f.write_str("an element's type is named by an identifier that is not known"),
        }
    }
}

/// "an OCTET STRING", "a [0] context-specific constructed element", for messages.
pub fn tag_name(t: Tag) -> String {
    let form = if t.is_constructed() { "constructed" } else { "primitive" };
    // rust-asn1 does not export its tag class type; the identifier octet carries it.
    let Some(octet) = t.as_u8() else {
        return format!("an element with the long-form tag number {} ({form})", t.value());
    };
    let class = match octet >> 6 {
        0 => "universal",
        1 => "application",
        2 => "context-specific",
        _ => "private",
    };
    let universal = match (class, t.value()) {
        ("universal", 1) => "a BOOLEAN",
        ("universal", 2) => "an INTEGER",
        ("universal", 3) => "a BIT STRING",
        ("universal", 4) => "an OCTET STRING",
        ("universal", 5) => "a NULL",
        ("universal", 6) => "an OBJECT IDENTIFIER",
        ("universal", 10) => "an ENUMERATED",
        ("universal", 12) => "a UTF8String",
        ("universal", 16) => "a SEQUENCE",
        ("universal", 17) => "a SET",
        ("universal", 19) => "a PrintableString",
        ("universal", 22) => "an IA5String",
        ("universal", 23) => "a UTCTime",
        ("universal", 24) => "a GeneralizedTime",
        _ => return format!("a [{}] {class} {form} element", t.value()),
    };
    universal.to_owned()
}

#[cfg(test)]
mod explain_tests {
    use super::*;

    #[test]
    fn parse_errors_read_as_sentences() {
        let e = asn1::parse_single::<asn1::Sequence<'_>>(b"\x04\x01a").unwrap_err();
        assert_eq!(
            explain(&e).to_string(),
            "found an OCTET STRING where another type belongs"
        );
        let e = asn1::parse_single::<asn1::Sequence<'_>>(b"\xa3\x00").unwrap_err();
        assert_eq!(
            explain(&e).to_string(),
            "found a [3] context-specific constructed element where another type belongs"
        );
        let e = asn1::parse_single::<asn1::Sequence<'_>>(b"\x30\x05").unwrap_err();
        assert_eq!(explain(&e).to_string(), "truncated: 5 more byte(s) needed");
    }
}
