//! The DER this crate needs at the token edge: the SubjectPublicKeyInfo of a token key built
//! from its attributes, the SPKI inside a certificate, Ecdsa-Sig-Value from a token's r‖s.
//! Written with the core's DER writer and read with govsig-asn1's types: one encoder and one
//! parser for the whole workspace.

use govsig_asn1::x509::{Certificate, SubjectPublicKeyInfo, TbsCertificate};
use govsig_core::crypto::der::{bit_string, sequence, unsigned_integer, NULL};

/// rsaEncryption, RFC 8017 Appendix C.
const OID_RSA_ENCRYPTION: &[u8] = &[0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];
/// id-ecPublicKey, RFC 5480 §2.1.1.
const OID_EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
/// id-Ed25519, RFC 8410 §3.
pub(crate) const OID_ED25519: &[u8] = &[0x06, 0x03, 0x2B, 0x65, 0x70];
/// secp256r1, RFC 5480 §2.1.1.1.
pub(crate) const OID_P256: &[u8] = &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
/// secp384r1, RFC 5480 §2.1.1.1.
pub(crate) const OID_P384: &[u8] = &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22];
/// secp521r1, RFC 5480 §2.1.1.1.
pub(crate) const OID_P521: &[u8] = &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23];
/// PKCS#11 v3.0 §2.3.10 lets CKA_EC_PARAMS of an Edwards key name the curve as a
/// PrintableString instead of an OID; SoftHSM and OpenSC write it this way.
pub(crate) const PRINTABLE_EDWARDS25519: &[u8] = b"\x13\x0cedwards25519";

/// A malformed DER input; the caller turns it into a typed error with context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DerError(pub(crate) &'static str);

/// PKCS#11 returns an ECDSA signature as r‖s, each as long as the group order; CMS and X.509
/// want Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 §2.2.3, RFC 5753 §7.2).
pub(crate) fn ecdsa_raw_to_der(raw: &[u8]) -> Result<Vec<u8>, DerError> {
    if raw.is_empty() || raw.len() & 1 != 0 {
        return Err(DerError(
            "the ECDSA signature from the token is not r||s of equal halves",
        ));
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    Ok(sequence(&[&unsigned_integer(r), &unsigned_integer(s)]))
}

/// RSA SubjectPublicKeyInfo, RFC 3279 §2.3.1 (parameters NULL).
pub(crate) fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    let rsa_public_key = sequence(&[&unsigned_integer(modulus), &unsigned_integer(exponent)]);
    let algorithm = sequence(&[OID_RSA_ENCRYPTION, NULL]);
    sequence(&[&algorithm, &bit_string(&rsa_public_key)])
}

/// EC SubjectPublicKeyInfo with a named curve, RFC 5480 §2.
pub(crate) fn ec_spki(curve_oid: &[u8], point: &[u8]) -> Vec<u8> {
    let algorithm = sequence(&[OID_EC_PUBLIC_KEY, curve_oid]);
    sequence(&[&algorithm, &bit_string(point)])
}

/// Ed25519 SubjectPublicKeyInfo, RFC 8410 §4 (parameters absent).
pub(crate) fn ed25519_spki(point: &[u8]) -> Vec<u8> {
    let algorithm = sequence(&[OID_ED25519]);
    sequence(&[&algorithm, &bit_string(point)])
}

/// The parts of a SubjectPublicKeyInfo that decide whether two keys are the same key.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SpkiParts {
    /// The algorithm OID, whole TLV.
    pub(crate) algorithm: Vec<u8>,
    /// The parameters, whole TLV, absent for Ed25519; NULL for RSA.
    pub(crate) parameters: Option<Vec<u8>>,
    /// The subjectPublicKey bits.
    pub(crate) key: Vec<u8>,
}

pub(crate) fn parse_spki(spki: &[u8]) -> Result<SpkiParts, DerError> {
    let parsed: SubjectPublicKeyInfo<'_> =
        asn1::parse_single(spki).map_err(|_| DerError("not a DER SubjectPublicKeyInfo"))?;
    if parsed.subject_public_key.padding_bits() != 0 {
        return Err(DerError("public key BIT STRING with unused bits"));
    }
    let algorithm =
        asn1::write_single(&parsed.algorithm.oid).map_err(|_| DerError("the algorithm OID cannot be re-encoded"))?;
    Ok(SpkiParts {
        algorithm,
        parameters: parsed.algorithm.params.map(|t| t.full_data().to_vec()),
        key: parsed.subject_public_key.as_bytes().to_vec(),
    })
}

/// The SubjectPublicKeyInfo (whole TLV) of an X.509 certificate, RFC 5280 §4.1.
pub(crate) fn certificate_spki(cert: &[u8]) -> Result<&[u8], DerError> {
    let certificate: Certificate<'_> = asn1::parse_single(cert).map_err(|_| DerError("not a DER X.509 certificate"))?;
    let tbs: TbsCertificate<'_> = certificate
        .tbs_cert
        .parse()
        .map_err(|_| DerError("tbsCertificate is malformed"))?;
    Ok(tbs.spki.full_data())
}

/// CKA_EC_POINT is a DER OCTET STRING holding the point (PKCS#11 v2.40 §2.3.3), but some
/// tokens return the bare point. `raw_len` is the length of a bare point for this curve; an
/// input of exactly that length is taken as bare, since an OCTET STRING wrapper is always
/// longer.
pub(crate) fn unwrap_ec_point(value: &[u8], raw_len: usize) -> Result<Vec<u8>, DerError> {
    if value.len() == raw_len {
        return Ok(value.to_vec());
    }
    let octets: &[u8] =
        asn1::parse_single(value).map_err(|_| DerError("CKA_EC_POINT is neither a point nor an OCTET STRING"))?;
    if octets.len() != raw_len {
        return Err(DerError("CKA_EC_POINT has the wrong length for its curve"));
    }
    Ok(octets.to_vec())
}

/// Bit length of an unsigned big-endian integer.
pub(crate) fn bit_length(magnitude: &[u8]) -> usize {
    let start = magnitude.iter().take_while(|b| **b == 0).count();
    match magnitude.get(start..) {
        Some([first, rest @ ..]) => {
            let lead = usize::try_from(8 - first.leading_zeros()).unwrap_or(8);
            rest.len() * 8 + lead
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use govsig_core::crypto::der::tlv;

    const TAG_OCTET_STRING: u8 = 0x04;

    #[test]
    fn ecdsa_der_handles_high_bits_and_leading_zeros() {
        // r with its high bit set gains a 0x00 octet; s with leading zero octets loses them.
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80;
        raw[31] = 0x01;
        raw[34] = 0x7F;
        raw[63] = 0x02;
        let der = ecdsa_raw_to_der(&raw).expect("valid");
        let mut expected = vec![0x30, 0x43, 0x02, 0x21, 0x00, 0x80];
        expected.extend_from_slice(&[0u8; 30]);
        expected.push(0x01);
        expected.extend_from_slice(&[0x02, 0x1e, 0x7F]);
        expected.extend_from_slice(&[0u8; 28]);
        expected.push(0x02);
        assert_eq!(der, expected);
    }

    #[test]
    fn ecdsa_der_uses_long_form_length_for_p521() {
        // Two 66-octet values with high bits set: 2 × (2 + 67) = 138 content octets, which
        // needs the 0x81 long form (X.690 §8.1.3.5).
        let raw = vec![0xFFu8; 132];
        let der = ecdsa_raw_to_der(&raw).expect("valid");
        assert_eq!(&der[..3], &[0x30, 0x81, 138]);
        assert_eq!(der.len(), 3 + 138);
    }

    #[test]
    fn ecdsa_der_zero_value_and_odd_input() {
        let der = ecdsa_raw_to_der(&[0, 0, 0, 5]).expect("valid");
        assert_eq!(der, vec![0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x05]);
        assert!(ecdsa_raw_to_der(&[1, 2, 3]).is_err());
        assert!(ecdsa_raw_to_der(&[]).is_err());
    }

    #[test]
    fn reader_rejects_non_der_lengths() {
        assert!(parse_spki(&[0x30, 0x80, 0x00, 0x00]).is_err());
        assert!(parse_spki(&[0x30, 0x81, 0x05, 0, 0, 0, 0, 0]).is_err());
        assert!(parse_spki(&[0x30, 0x85, 1, 0, 0, 0, 0]).is_err());
        assert!(parse_spki(&[0x30, 0x10, 0x00]).is_err());
        assert!(certificate_spki(&[]).is_err());
    }

    #[test]
    fn spki_round_trip() {
        let spki = ec_spki(OID_P256, &[4u8; 65]);
        let parts = parse_spki(&spki).expect("parses");
        assert_eq!(parts.algorithm, OID_EC_PUBLIC_KEY);
        assert_eq!(parts.parameters.as_deref(), Some(OID_P256));
        assert_eq!(parts.key, [4u8; 65]);
        let ed = ed25519_spki(&[7u8; 32]);
        assert_eq!(parse_spki(&ed).expect("parses").parameters, None);
        let rsa = rsa_spki(&[0xC1; 256], &[1, 0, 1]);
        assert_eq!(parse_spki(&rsa).expect("parses").parameters.as_deref(), Some(NULL));
    }

    #[test]
    fn ec_point_wrapped_or_bare() {
        let bare = vec![4u8; 65];
        assert_eq!(unwrap_ec_point(&bare, 65).expect("bare"), bare);
        let wrapped = tlv(TAG_OCTET_STRING, &bare);
        assert_eq!(unwrap_ec_point(&wrapped, 65).expect("wrapped"), bare);
        assert!(unwrap_ec_point(&wrapped, 97).is_err());
    }

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01]), 1);
        assert_eq!(bit_length(&[0x00]), 0);
        assert_eq!(bit_length(&[]), 0);
    }
}
