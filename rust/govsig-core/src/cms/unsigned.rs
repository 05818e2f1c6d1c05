//! Adding unsigned attributes to the SignerInfos of an existing SignedData, above all the
//! signature time-stamp of RFC 3161 Appendix A (id-aa-signatureTimeStampToken, a token over
//! the SignerInfo's signature value): how an archive stamps today what it already holds.
//!
//! Unsigned attributes are outside every signature (RFC 5652 §5.3), so adding them must not
//! change one signed byte: the SignedData is re-encoded by copying each field's TLV as
//! received and rebuilding only the signerInfos SET, the SignerInfos in it, and their
//! `unsignedAttrs [1]`. Input in BER is normalised to DER first (as verification does), which
//! keeps every signature valid: signed attributes are signed in their DER form (RFC 5652
//! §5.4) and normalising an OCTET STRING keeps its content octets.

use govsig_asn1::common::split_tlvs;

use crate::cms::signed_data;
use crate::crypto::der::tlv;

/// The signature value of every SignerInfo, in order (what a signature time-stamp stamps,
/// RFC 3161 Appendix A).
pub fn signature_values(cms: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let decoded = signed_data::decode(cms).map_err(|e| e.0)?;
    let sd = signed_data::parse(&decoded.der).map_err(|e| e.0)?;
    if sd.signers.is_empty() {
        return Err("the SignedData has no SignerInfo to time-stamp".into());
    }
    Ok(sd.signers.iter().map(|s| s.signature.to_vec()).collect())
}

/// Adds, to SignerInfo `i`, one attribute of type `attr_type` per value in `values[i]` (each
/// a complete DER TLV, e.g. a time-stamp token). `values` has one entry per SignerInfo; an
/// empty entry leaves that SignerInfo as it was. Returns the DER ContentInfo.
pub fn add_unsigned_attributes(
    cms: &[u8],
    attr_type: &asn1::ObjectIdentifier,
    values: &[Vec<Vec<u8>>],
) -> Result<Vec<u8>, String> {
    let decoded = signed_data::decode(cms).map_err(|e| e.0)?;
    // Full validation first: only a SignedData govsig can read is rewritten.
    let parsed = signed_data::parse(&decoded.der).map_err(|e| e.0)?;
    if parsed.signers.len() != values.len() {
        return Err(format!(
            "{} sets of attribute values for {} SignerInfos",
            values.len(),
            parsed.signers.len()
        ));
    }
    let der: &[u8] = &decoded.der;
    let bad = |what: &str| format!("cannot re-encode the SignedData: {what}");
    let ci = one_tlv(der).ok_or_else(|| bad("ContentInfo"))?;
    let ci_parts = split_tlvs(ci.data()).map_err(|_| bad("ContentInfo fields"))?;
    let [content_type, explicit0] = ci_parts.as_slice() else {
        return Err(bad("ContentInfo has other than two fields"));
    };
    let sd = one_tlv(explicit0.data()).ok_or_else(|| bad("[0] content"))?;
    let sd_parts = split_tlvs(sd.data()).map_err(|_| bad("SignedData fields"))?;
    let (signer_infos, before) = sd_parts.split_last().ok_or_else(|| bad("empty SignedData"))?;
    let infos = split_tlvs(signer_infos.data()).map_err(|_| bad("signerInfos"))?;
    let attr_oid = asn1::write_single(attr_type).map_err(|e| bad(&format!("attribute type: {e:?}")))?;
    let mut new_infos = Vec::new();
    for (si, extra) in infos.iter().zip(values) {
        if extra.is_empty() {
            new_infos.extend_from_slice(si.full_data());
            continue;
        }
        let fields = split_tlvs(si.data()).map_err(|_| bad("SignerInfo fields"))?;
        // RFC 5652 §5.3: unsignedAttrs [1] IMPLICIT is the last field when present.
        let (kept, mut attrs): (&[asn1::Tlv<'_>], Vec<Vec<u8>>) = match fields.split_last() {
            Some((last, rest)) if last.full_data().first() == Some(&UNSIGNED_ATTRS_TAG) => {
                let existing = split_tlvs(last.data()).map_err(|_| bad("unsignedAttrs"))?;
                (rest, existing.iter().map(|t| t.full_data().to_vec()).collect())
            }
            _ => (fields.as_slice(), Vec::new()),
        };
        for v in extra {
            // Each value must be exactly one TLV, or the result would not parse.
            one_tlv(v).ok_or_else(|| bad("an attribute value is not one DER TLV"))?;
            let mut body = attr_oid.clone();
            body.extend_from_slice(&tlv(0x31, v));
            attrs.push(tlv(0x30, &body));
        }
        // DER SET OF: elements sorted by their encodings (X.690 §11.6).
        attrs.sort();
        let mut si_body: Vec<u8> = kept.iter().flat_map(|t| t.full_data().iter().copied()).collect();
        si_body.extend_from_slice(&tlv(UNSIGNED_ATTRS_TAG, &attrs.concat()));
        new_infos.extend_from_slice(&tlv(0x30, &si_body));
    }
    let mut sd_body: Vec<u8> = before.iter().flat_map(|t| t.full_data().iter().copied()).collect();
    sd_body.extend_from_slice(&tlv(0x31, &new_infos));
    let mut ci_body = content_type.full_data().to_vec();
    ci_body.extend_from_slice(&tlv(0xa0, &tlv(0x30, &sd_body)));
    let out = tlv(0x30, &ci_body);
    // The result must read back as the same SignedData with the same signatures.
    let check = signed_data::parse(&out).map_err(|e| bad(&e.0))?;
    if check.signers.len() != parsed.signers.len() {
        return Err(bad("signer count changed"));
    }
    Ok(out)
}

/// Adds one signature time-stamp token to each SignerInfo (RFC 3161 Appendix A).
pub fn add_signature_timestamps(cms: &[u8], tokens: &[Vec<Vec<u8>>]) -> Result<Vec<u8>, String> {
    add_unsigned_attributes(cms, &govsig_asn1::tsp::oid::SIGNATURE_TIME_STAMP_TOKEN, tokens)
}

/// `[1]` constructed, context-specific: unsignedAttrs (RFC 5652 §5.3).
const UNSIGNED_ATTRS_TAG: u8 = 0xa1;

fn one_tlv(data: &[u8]) -> Option<asn1::Tlv<'_>> {
    asn1::parse_single::<asn1::Tlv<'_>>(data).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_with_a_reason() {
        let err = signature_values(b"not a signature").expect_err("refused");
        assert!(err.contains("ContentInfo"), "{err}");
        let err = add_signature_timestamps(b"\x30\x00", &[]).expect_err("refused");
        assert!(err.contains("ContentInfo"), "{err}");
    }
}
