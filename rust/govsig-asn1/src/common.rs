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
