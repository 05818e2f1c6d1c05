//! The workspace's one DER writer (definite lengths, minimal octets, X.690 §10), and the small
//! readers the algorithm table and the key parser share. The PKCS#11 crate writes the
//! SubjectPublicKeyInfo and Ecdsa-Sig-Value of token keys with it too.

use super::CryptoError;

/// DER of ASN.1 NULL.
pub const NULL: &[u8] = &[0x05, 0x00];

#[derive(asn1::Asn1Read)]
struct AlgorithmIdentifier<'a> {
    algorithm: asn1::ObjectIdentifier,
    parameters: Option<asn1::Tlv<'a>>,
}

/// Splits an AlgorithmIdentifier (exactly one DER TLV, nothing after it) into its OID and the
/// full TLV of its parameters, if any.
pub(crate) fn parse_algorithm_identifier(der: &[u8]) -> Result<(asn1::ObjectIdentifier, Option<&[u8]>), CryptoError> {
    let ai: AlgorithmIdentifier<'_> = asn1::parse_single(der).map_err(|e| {
        CryptoError::UnsupportedAlgorithm(format!(
            "AlgorithmIdentifier is not valid DER ({}); expected SEQUENCE {{ OID, params OPTIONAL }}",
            govsig_asn1::common::explain(&e)
        ))
    })?;
    Ok((ai.algorithm, ai.parameters.map(|t| t.full_data())))
}

/// DER length octets for `len` (X.690 §10.1: definite form, minimal octets).
pub fn push_len(out: &mut Vec<u8>, len: usize) {
    match u8::try_from(len) {
        Ok(short) if short < 0x80 => out.push(short),
        _ => {
            let bytes = len.to_be_bytes();
            let significant: Vec<u8> = bytes.into_iter().skip_while(|b| *b == 0).collect();
            // At most size_of::<usize>() octets, so the count always fits the 7-bit field.
            let count = u8::try_from(significant.len()).unwrap_or(0x7f);
            out.push(0x80 | count);
            out.extend_from_slice(&significant);
        }
    }
}

/// Wraps `content` in a TLV with a single-octet `tag`.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// SEQUENCE { OBJECT IDENTIFIER oid_body, params } as DER; `params` is a full TLV.
pub fn algorithm_identifier(oid_body: &[u8], params: Option<&[u8]>) -> Vec<u8> {
    let mut inner = tlv(0x06, oid_body);
    if let Some(p) = params {
        inner.extend_from_slice(p);
    }
    tlv(0x30, &inner)
}

/// SEQUENCE of already encoded elements.
pub fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A non-negative INTEGER from big-endian magnitude octets (X.690 §8.3: minimal, with a zero
/// octet in front when the high bit is set, so that the value is not read as negative).
pub fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
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
    tlv(0x02, &content)
}

/// BIT STRING of whole octets (no unused bits), as a subjectPublicKey is.
pub fn bit_string(octets: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(octets.len() + 1);
    content.push(0);
    content.extend_from_slice(octets);
    tlv(0x03, &content)
}

/// " (name)" for OIDs a person might recognise in an error message, else "".
pub(crate) fn oid_name_suffix(dotted: &str) -> &'static str {
    match dotted {
        "1.3.132.0.10" => " (secp256k1)",
        "1.3.36.3.3.2.8.1.1.7" => " (brainpoolP256r1)",
        "1.3.36.3.3.2.8.1.1.11" => " (brainpoolP384r1)",
        "1.3.36.3.3.2.8.1.1.13" => " (brainpoolP512r1)",
        "1.2.840.10045.3.1.1" => " (secp192r1)",
        "1.3.132.0.33" => " (secp224r1)",
        "1.3.101.113" => " (Ed448)",
        "2.16.840.1.101.3.4.2.5" => " (sha512-224)",
        "2.16.840.1.101.3.4.2.6" => " (sha512-256)",
        "2.16.840.1.101.3.4.2.7" => " (sha3-224)",
        "2.16.840.1.101.3.4.2.8" => " (sha3-256)",
        "2.16.840.1.101.3.4.2.9" => " (sha3-384)",
        "2.16.840.1.101.3.4.2.10" => " (sha3-512)",
        "2.16.840.1.101.3.4.3.9" => " (ecdsa-with-SHA3-224)",
        "2.16.840.1.101.3.4.3.10" => " (ecdsa-with-SHA3-256)",
        "2.16.840.1.101.3.4.3.11" => " (ecdsa-with-SHA3-384)",
        "2.16.840.1.101.3.4.3.12" => " (ecdsa-with-SHA3-512)",
        "2.16.840.1.101.3.4.3.13" => " (id-rsassa-pkcs1-v1_5-with-sha3-224)",
        "2.16.840.1.101.3.4.3.14" => " (id-rsassa-pkcs1-v1_5-with-sha3-256)",
        "2.16.840.1.101.3.4.3.15" => " (id-rsassa-pkcs1-v1_5-with-sha3-384)",
        "2.16.840.1.101.3.4.3.16" => " (id-rsassa-pkcs1-v1_5-with-sha3-512)",
        "1.2.840.113549.1.1.4" => " (md5WithRSAEncryption)",
        "1.2.840.113549.1.1.15" => " (sha512-224WithRSAEncryption)",
        "1.2.840.113549.1.1.16" => " (sha512-256WithRSAEncryption)",
        "1.2.840.113549.2.5" => " (md5)",
        "1.2.840.113549.1.1.7" => " (id-RSAES-OAEP)",
        "1.2.643.7.1.1.3.2" => " (GOST R 34.10-2012 256)",
        "2.16.840.1.101.3.4.3.17" => " (ML-DSA-44)",
        "2.16.840.1.101.3.4.3.18" => " (ML-DSA-65)",
        "2.16.840.1.101.3.4.3.19" => " (ML-DSA-87)",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lengths_are_minimal() {
        let mut v = Vec::new();
        push_len(&mut v, 0x7f);
        assert_eq!(v, [0x7f]);
        v.clear();
        push_len(&mut v, 0x80);
        assert_eq!(v, [0x81, 0x80]);
        v.clear();
        push_len(&mut v, 0x1234);
        assert_eq!(v, [0x82, 0x12, 0x34]);
    }

    #[test]
    fn unsigned_integers_are_minimal_and_non_negative() {
        assert_eq!(unsigned_integer(&[]), [0x02, 0x01, 0x00]);
        assert_eq!(unsigned_integer(&[0, 0, 5]), [0x02, 0x01, 0x05]);
        assert_eq!(unsigned_integer(&[0x80]), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(bit_string(&[0xAB]), [0x03, 0x02, 0x00, 0xAB]);
        assert_eq!(
            sequence(&[&[0x05, 0x00], &[0x05, 0x00]]),
            [0x30, 0x04, 0x05, 0x00, 0x05, 0x00]
        );
    }
}
