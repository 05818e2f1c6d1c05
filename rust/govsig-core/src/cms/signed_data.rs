//! Parsing a ContentInfo/SignedData into an owned-free view over the input bytes, with the
//! BER fallback (DESIGN: "on failure try the BER normaliser, and record that the input was
//! BER").

use std::borrow::Cow;

use govsig_asn1::cms::{self as asn, oid};

/// How the signer names its certificate (RFC 5652 §5.3).
#[derive(Clone, Debug)]
pub enum SignerIdentity {
    IssuerSerial { issuer_der: Vec<u8>, serial: Vec<u8> },
    SubjectKeyId(Vec<u8>),
}

/// One SignerInfo, with the byte ranges verification needs.
#[derive(Clone, Debug)]
pub struct ParsedSigner<'a> {
    pub version: u8,
    pub sid: SignerIdentity,
    pub digest_algorithm: &'a [u8],
    /// The signedAttrs content octets (without the [0] tag), when present.
    pub signed_attrs: Option<&'a [u8]>,
    pub signature_algorithm: &'a [u8],
    pub signature: &'a [u8],
    /// The unsignedAttrs content octets (without the [1] tag), when present.
    pub unsigned_attrs: Option<&'a [u8]>,
}

/// A SignedData, borrowed from the (possibly normalised) input.
pub struct ParsedSignedData<'a> {
    pub version: u8,
    pub econtent_type: String,
    pub econtent_type_der: Vec<u8>,
    /// The encapsulated content (attached signatures): the value of the eContent OCTET
    /// STRING, or, for PKCS#7 v1.5 content of another type, the value octets of that element
    /// (RFC 2315 §9.3: "only the contents octets of the DER encoding of that field are
    /// digested, not the identifier octets or the length octets", as OpenSSL's PKCS7 API
    /// and Authenticode read it).
    pub econtent: Option<&'a [u8]>,
    /// False when the eContent is not an OCTET STRING (PKCS#7 v1.5 `[0] EXPLICIT ANY`).
    pub econtent_is_octet_string: bool,
    pub certificates: Vec<&'a [u8]>,
    pub crls: Vec<&'a [u8]>,
    pub signers: Vec<ParsedSigner<'a>>,
}

/// Why an input is not a SignedData.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFailure(pub String);

/// Input after the optional BER normalisation.
pub struct Decoded<'a> {
    pub der: Cow<'a, [u8]>,
    pub was_ber: bool,
}

/// Accepts DER as is; otherwise tries the bounded BER normaliser.
pub fn decode(input: &[u8]) -> Result<Decoded<'_>, ParseFailure> {
    match asn1::parse_single::<asn::ContentInfo<'_>>(input) {
        Ok(_) => Ok(Decoded {
            der: Cow::Borrowed(input),
            was_ber: false,
        }),
        Err(der_err) => {
            let limits = govsig_asn1::ber::Limits::default();
            match govsig_asn1::ber::normalise(input, &limits) {
                Ok(der) => {
                    if der.as_slice() == input {
                        return Err(ParseFailure(format!(
                            "not a DER ContentInfo: {}",
                            govsig_asn1::common::explain(&der_err)
                        )));
                    }
                    Ok(Decoded {
                        der: Cow::Owned(der),
                        was_ber: true,
                    })
                }
                Err(ber_err) => Err(ParseFailure(format!(
                    "not a CMS ContentInfo (as DER: {}; as BER: {ber_err})",
                    govsig_asn1::common::explain(&der_err)
                ))),
            }
        }
    }
}

fn pf(what: &'static str) -> impl FnOnce(asn1::ParseError) -> ParseFailure {
    move |e| ParseFailure(format!("{what}: {}", govsig_asn1::common::explain(&e)))
}

/// Parses a DER ContentInfo carrying SignedData.
pub fn parse(der: &[u8]) -> Result<ParsedSignedData<'_>, ParseFailure> {
    let ci = asn1::parse_single::<asn::ContentInfo<'_>>(der).map_err(pf("ContentInfo"))?;
    if ci.content_type != oid::SIGNED_DATA {
        return Err(ParseFailure(format!(
            "ContentInfo carries {} rather than signedData (1.2.840.113549.1.7.2)",
            ci.content_type
        )));
    }
    let sd_tlv = ci.content.into_inner();
    let sd = asn1::parse_single::<asn::SignedData<'_>>(sd_tlv.full_data()).map_err(pf("SignedData"))?;
    // RFC 5652 §5.1: versions 1, 3, 4 and 5 are defined.
    if !matches!(sd.version, 1 | 3 | 4 | 5) {
        return Err(ParseFailure(format!(
            "SignedData version {} is not defined by RFC 5652",
            sd.version
        )));
    }
    // digestAlgorithms is an unprotected hint (each SignerInfo names its own digest), but a
    // structurally broken one means a broken SignedData.
    sd.digest_algorithms
        .parse_all::<govsig_asn1::common::AlgorithmIdentifier<'_>>()
        .map_err(pf("SignedData.digestAlgorithms"))?;
    let econtent_type_der = asn1::write_single(&sd.encap_content_info.econtent_type)
        .map_err(|e| ParseFailure(format!("eContentType: {e}")))?;
    let certificates = match &sd.certificates {
        // Only plain certificates (a SEQUENCE); the other CertificateChoices (extended,
        // attribute certificates, other) are tagged and play no part in verification.
        Some(set) => set
            .elements()
            .iter()
            .filter(|t| t.tag() == asn1_sequence_tag())
            .map(|t| t.full_data())
            .collect(),
        None => Vec::new(),
    };
    let crls = match &sd.crls {
        Some(set) => set
            .elements()
            .iter()
            .filter(|t| t.tag() == asn1_sequence_tag())
            .map(|t| t.full_data())
            .collect(),
        None => Vec::new(),
    };
    let mut signers = Vec::new();
    for (i, si) in sd
        .signer_infos
        .parse_all::<asn::SignerInfo<'_>>()
        .map_err(pf("SignerInfo"))?
        .into_iter()
        .enumerate()
    {
        signers.push(signer_from(&si, || format!("SignerInfo #{i}"))?);
    }
    if sd.encap_content_info.econtent_type == oid::DATA {
        if let Some(t) = &sd.encap_content_info.econtent {
            if t.tag() != octet_string_tag() {
                return Err(ParseFailure(
                    "the eContent of type id-data is not an OCTET STRING (RFC 5652 §4, RFC 2315 §8)".into(),
                ));
            }
        }
    }
    Ok(ParsedSignedData {
        version: sd.version,
        // id-data is nearly every document; spelled out rather than formatted each time.
        econtent_type: if sd.encap_content_info.econtent_type == oid::DATA {
            "1.2.840.113549.1.7.1".to_owned()
        } else {
            crate::oidtext::dotted(&sd.encap_content_info.econtent_type)
        },
        econtent_type_der,
        econtent: sd.encap_content_info.econtent.as_ref().map(|t| t.data()),
        econtent_is_octet_string: sd
            .encap_content_info
            .econtent
            .as_ref()
            .is_none_or(|t| t.tag() == octet_string_tag()),
        certificates,
        crls,
        signers,
    })
}

/// One SignerInfo read on its own: the value of an id-countersignature attribute (RFC 5652
/// §11.4), which is a SignerInfo in DER.
pub fn parse_signer_info(der: &[u8]) -> Result<ParsedSigner<'_>, ParseFailure> {
    let si = asn1::parse_single::<asn::SignerInfo<'_>>(der).map_err(pf("countersignature SignerInfo"))?;
    signer_from(&si, || "the countersignature".to_owned())
}

/// `which` names the SignerInfo in an error (formatted only then: bulk runs never pay for it).
fn signer_from<'a>(si: &asn::SignerInfo<'a>, which: impl FnOnce() -> String) -> Result<ParsedSigner<'a>, ParseFailure> {
    let sid = match &si.sid {
        asn::SignerIdentifier::IssuerAndSerialNumber(ias) => SignerIdentity::IssuerSerial {
            issuer_der: ias.issuer.full_data().to_vec(),
            serial: ias.serial_number.as_bytes().to_vec(),
        },
        asn::SignerIdentifier::SubjectKeyIdentifier(ski) => SignerIdentity::SubjectKeyId(ski.to_vec()),
    };
    let expected = match sid {
        SignerIdentity::IssuerSerial { .. } => 1,
        SignerIdentity::SubjectKeyId(_) => 3,
    };
    if si.version != expected {
        return Err(ParseFailure(format!(
            "{} has version {} but its signer identifier requires {expected} (RFC 5652 §5.3)",
            which(),
            si.version
        )));
    }
    Ok(ParsedSigner {
        version: si.version,
        sid,
        digest_algorithm: si.digest_algorithm.full_data(),
        signed_attrs: si.signed_attrs.as_ref().map(|s| s.content()),
        signature_algorithm: si.signature_algorithm.full_data(),
        signature: si.signature,
        unsigned_attrs: si.unsigned_attrs.as_ref().map(|s| s.content()),
    })
}

fn octet_string_tag() -> asn1::Tag {
    <&[u8] as asn1::SimpleAsn1Readable<'_>>::TAG
}

fn asn1_sequence_tag() -> asn1::Tag {
    <asn1::Sequence<'_> as asn1::SimpleAsn1Readable<'_>>::TAG
}
