//! The little DER this crate needs at the token edge: SubjectPublicKeyInfo built from key
//! attributes, the SPKI inside a certificate, Ecdsa-Sig-Value, DigestInfo. Kept here, rather
//! than borrowed from govsig-asn1, so that the FFI crate stays free of the parser crates.
//!
//! Every reader is bounded by its input: definite lengths only, at most four length octets,
//! single-octet tags, and every length checked against what is left.

use crate::Digest;

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_NULL: u8 = 0x05;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;
const TAG_CONTEXT_0_CONSTRUCTED: u8 = 0xA0;

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

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0x7F));
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let significant = bytes.get(skip..).unwrap_or(&[]);
    out.push(0x80 | u8::try_from(significant.len()).unwrap_or(0));
    out.extend_from_slice(significant);
}

pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// A non-negative INTEGER from big-endian magnitude bytes (X.690 §8.3: minimal, with a zero
/// octet in front when the high bit is set, so the value is not read as negative).
pub(crate) fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let start = magnitude.iter().take_while(|b| **b == 0).count();
    let trimmed = magnitude.get(start..).unwrap_or(&[]);
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    match trimmed.first() {
        None => content.push(0),
        Some(first) if first & 0x80 != 0 => {
            content.push(0);
            content.extend_from_slice(trimmed);
        }
        Some(_) => content.extend_from_slice(trimmed),
    }
    tlv(TAG_INTEGER, &content)
}

fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(bytes.len() + 1);
    content.push(0);
    content.extend_from_slice(bytes);
    tlv(TAG_BIT_STRING, &content)
}

fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    let content: Vec<u8> = parts.concat();
    tlv(TAG_SEQUENCE, &content)
}

/// PKCS#11 returns an ECDSA signature as r‖s, each as long as the group order; CMS and X.509
/// want Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 §2.2.3, RFC 5753 §7.2).
pub(crate) fn ecdsa_raw_to_der(raw: &[u8]) -> Result<Vec<u8>, DerError> {
    if raw.is_empty() || raw.len() & 1 != 0 {
        return Err(DerError(
            "the ECDSA signature from the token is not r||s of equal halves",
        ));
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let r = unsigned_integer(r);
    let s = unsigned_integer(s);
    Ok(sequence(&[&r, &s]))
}

/// DigestInfo prefixes for EMSA-PKCS1-v1_5, RFC 8017 §9.2 Note 1.
pub(crate) fn digest_info(digest: Digest, hash: &[u8]) -> Vec<u8> {
    let prefix: &[u8] = match digest {
        Digest::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
            0x20,
        ],
        Digest::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04,
            0x30,
        ],
        Digest::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04,
            0x40,
        ],
    };
    let mut out = Vec::with_capacity(prefix.len() + hash.len());
    out.extend_from_slice(prefix);
    out.extend_from_slice(hash);
    out
}

/// RSA SubjectPublicKeyInfo, RFC 3279 §2.3.1 (parameters NULL).
pub(crate) fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    let rsa_public_key = sequence(&[&unsigned_integer(modulus), &unsigned_integer(exponent)]);
    let null = tlv(TAG_NULL, &[]);
    let algorithm = sequence(&[OID_RSA_ENCRYPTION, &null]);
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

/// One element read from DER.
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    whole: &'a [u8],
}

struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    fn read(&mut self) -> Result<Tlv<'a>, DerError> {
        let data = self.data;
        let tag = *data.first().ok_or(DerError("truncated: missing tag"))?;
        if tag & 0x1F == 0x1F {
            return Err(DerError("multi-octet tags are not used in these structures"));
        }
        let first_len = *data.get(1).ok_or(DerError("truncated: missing length"))?;
        let (len, header) = if first_len < 0x80 {
            (usize::from(first_len), 2usize)
        } else {
            let count = usize::from(first_len & 0x7F);
            if count == 0 {
                return Err(DerError("indefinite length is not DER"));
            }
            if count > 4 {
                return Err(DerError("length longer than four octets"));
            }
            let bytes = data.get(2..2 + count).ok_or(DerError("truncated length"))?;
            let mut len = 0usize;
            for b in bytes {
                len = (len << 8) | usize::from(*b);
            }
            if len < 0x80 || bytes.first() == Some(&0) {
                return Err(DerError("non-minimal length is not DER"));
            }
            (len, 2 + count)
        };
        let end = header.checked_add(len).ok_or(DerError("length overflow"))?;
        let whole = data
            .get(..end)
            .ok_or(DerError("length runs past the end of the input"))?;
        let content = whole
            .get(header..)
            .ok_or(DerError("length runs past the end of the input"))?;
        self.data = data.get(end..).unwrap_or(&[]);
        Ok(Tlv { tag, content, whole })
    }

    fn expect(&mut self, tag: u8, what: &'static str) -> Result<Tlv<'a>, DerError> {
        let tlv = self.read()?;
        if tlv.tag != tag {
            return Err(DerError(what));
        }
        Ok(tlv)
    }
}

/// The parts of a SubjectPublicKeyInfo that decide whether two keys are the same key.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SpkiParts<'a> {
    /// The algorithm OID, whole TLV.
    pub(crate) algorithm: &'a [u8],
    /// The parameters, whole TLV, absent for Ed25519; NULL for RSA.
    pub(crate) parameters: Option<&'a [u8]>,
    /// The subjectPublicKey bits (after the unused-bits octet).
    pub(crate) key: &'a [u8],
}

pub(crate) fn parse_spki(spki: &[u8]) -> Result<SpkiParts<'_>, DerError> {
    let mut outer = Reader::new(spki);
    let seq = outer.expect(TAG_SEQUENCE, "SubjectPublicKeyInfo is not a SEQUENCE")?;
    if !outer.is_empty() {
        return Err(DerError("data after SubjectPublicKeyInfo"));
    }
    let mut inner = Reader::new(seq.content);
    let alg = inner.expect(TAG_SEQUENCE, "AlgorithmIdentifier is not a SEQUENCE")?;
    let bits = inner.expect(TAG_BIT_STRING, "subjectPublicKey is not a BIT STRING")?;
    if !inner.is_empty() {
        return Err(DerError("data after subjectPublicKey"));
    }
    let mut alg_reader = Reader::new(alg.content);
    let oid = alg_reader.expect(TAG_OID, "algorithm is not an OBJECT IDENTIFIER")?;
    let parameters = if alg_reader.is_empty() {
        None
    } else {
        Some(alg_reader.read()?.whole)
    };
    if !alg_reader.is_empty() {
        return Err(DerError("data after algorithm parameters"));
    }
    let (unused, key) = bits.content.split_first().ok_or(DerError("empty BIT STRING"))?;
    if *unused != 0 {
        return Err(DerError("public key BIT STRING with unused bits"));
    }
    Ok(SpkiParts {
        algorithm: oid.whole,
        parameters,
        key,
    })
}

/// The SubjectPublicKeyInfo (whole TLV) of an X.509 certificate, RFC 5280 §4.1.
pub(crate) fn certificate_spki(cert: &[u8]) -> Result<&[u8], DerError> {
    let mut outer = Reader::new(cert);
    let certificate = outer.expect(TAG_SEQUENCE, "certificate is not a SEQUENCE")?;
    if !outer.is_empty() {
        return Err(DerError("data after the certificate"));
    }
    let mut c = Reader::new(certificate.content);
    let tbs = c.expect(TAG_SEQUENCE, "tbsCertificate is not a SEQUENCE")?;
    let mut t = Reader::new(tbs.content);
    if t.peek_tag() == Some(TAG_CONTEXT_0_CONSTRUCTED) {
        t.read()?;
    }
    t.expect(TAG_INTEGER, "serialNumber is not an INTEGER")?;
    t.expect(TAG_SEQUENCE, "signature AlgorithmIdentifier is not a SEQUENCE")?;
    t.expect(TAG_SEQUENCE, "issuer is not a SEQUENCE")?;
    t.expect(TAG_SEQUENCE, "validity is not a SEQUENCE")?;
    t.expect(TAG_SEQUENCE, "subject is not a SEQUENCE")?;
    Ok(t.expect(TAG_SEQUENCE, "subjectPublicKeyInfo is not a SEQUENCE")?.whole)
}

/// CKA_EC_POINT is a DER OCTET STRING holding the point (PKCS#11 v2.40 §2.3.3), but some
/// tokens return the bare point. `raw_len` is the length of a bare point for this curve; an
/// input of exactly that length starting like a point is taken as bare, since an OCTET STRING
/// wrapper is always longer.
pub(crate) fn unwrap_ec_point(value: &[u8], raw_len: usize) -> Result<Vec<u8>, DerError> {
    if value.len() == raw_len {
        return Ok(value.to_vec());
    }
    let mut r = Reader::new(value);
    let octets = r.expect(TAG_OCTET_STRING, "CKA_EC_POINT is neither a point nor an OCTET STRING")?;
    if !r.is_empty() {
        return Err(DerError("data after the CKA_EC_POINT OCTET STRING"));
    }
    if octets.content.len() != raw_len {
        return Err(DerError("CKA_EC_POINT has the wrong length for its curve"));
    }
    Ok(octets.content.to_vec())
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
        assert_eq!(parts.parameters, Some(OID_P256));
        assert_eq!(parts.key, &[4u8; 65][..]);
        let ed = ed25519_spki(&[7u8; 32]);
        assert_eq!(parse_spki(&ed).expect("parses").parameters, None);
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
