//! Pure-Rust verification for what aws-lc-rs 1.19 does not offer: DSA (FIPS 186-4 §4.7),
//! RSA-PSS with a salt length other than the digest length or with SHA-1/SHA-224, and
//! RSA key sizes or hash pairings outside aws-lc's fixed parameter sets. Only public values
//! are involved, so constant-time arithmetic is not needed.

use num_bigint_dig::{BigUint, ModInverse};
use num_traits::Zero;

use super::digest::DigestAlgorithm;
use super::key::{DsaKey, RsaKey};
use super::CryptoError;

/// RSAVP1 (RFC 8017 §5.2.2) returning the encoded message as exactly `len` octets.
fn rsa_public(key: &RsaKey, signature: &[u8], len: usize) -> Result<Vec<u8>, CryptoError> {
    // RFC 8017 §8.2.2 step 1 / §8.1.2 step 1: the signature is exactly k octets.
    if signature.len() != key.k {
        return Err(CryptoError::BadSignature);
    }
    let s = BigUint::from_bytes_be(signature);
    if s >= key.n {
        return Err(CryptoError::BadSignature);
    }
    let m = s.modpow(&key.e, &key.n).to_bytes_be();
    // I2OSP(m, len); m = 0 serialises as [0].
    let m: &[u8] = if m.iter().all(|b| *b == 0) { &[] } else { &m };
    if m.len() > len {
        return Err(CryptoError::BadSignature);
    }
    let mut em = vec![0u8; len - m.len()];
    em.extend_from_slice(m);
    Ok(em)
}

/// RSASSA-PKCS1-v1_5 verification (RFC 8017 §8.2.2) of a precomputed hash.
pub(crate) fn rsa_pkcs1_verify(
    key: &RsaKey,
    alg: DigestAlgorithm,
    hash: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let em = rsa_public(key, signature, key.k)?;
    // The DigestInfo prefix with NULL parameters, the only form accepted: comparing a freshly
    // encoded block (encode-then-compare) rather than parsing the recovered one stops
    // Bleichenbacher's 2006 low-exponent forgery against lax parsers.
    let prefix = alg.digest_info_prefix();
    let t_len = prefix.len() + hash.len();
    // EMSA-PKCS1-v1_5 step 3: at least 8 octets of 0xff padding.
    if key.k < t_len + 11 {
        return Err(CryptoError::BadSignature);
    }
    let mut expected = Vec::with_capacity(key.k);
    expected.extend_from_slice(&[0x00, 0x01]);
    expected.resize(key.k - t_len - 1, 0xff);
    expected.push(0x00);
    expected.extend_from_slice(&prefix);
    expected.extend_from_slice(hash);
    if em == expected {
        Ok(())
    } else {
        Err(CryptoError::BadSignature)
    }
}

/// MGF1 (RFC 8017 B.2.1).
fn mgf1(alg: DigestAlgorithm, seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + alg.output_len());
    let mut counter: u32 = 0;
    while out.len() < len {
        let mut h = alg.hasher();
        h.update(seed);
        h.update(&counter.to_be_bytes());
        out.extend_from_slice(&h.finish());
        counter = counter.wrapping_add(1);
    }
    out.truncate(len);
    out
}

/// RSASSA-PSS verification (RFC 8017 §8.1.2, EMSA-PSS-VERIFY §9.1.2) of a precomputed
/// hash, MGF1 with the same hash, the given salt length, trailer 0xbc.
pub(crate) fn rsa_pss_verify(
    key: &RsaKey,
    alg: DigestAlgorithm,
    m_hash: &[u8],
    salt_len: usize,
    signature: &[u8],
) -> Result<(), CryptoError> {
    let mod_bits = key.n.bits();
    let em_bits = mod_bits.checked_sub(1).ok_or(CryptoError::BadSignature)?;
    let em_len = em_bits.div_ceil(8);
    let full = rsa_public(key, signature, key.k)?;
    // When emLen < k the leading octet of the k-octet integer must be zero (I2OSP to emLen).
    let (head, em) = full.split_at(key.k - em_len);
    if head.iter().any(|b| *b != 0) {
        return Err(CryptoError::BadSignature);
    }
    let h_len = alg.output_len();
    // Step 3: emLen < hLen + sLen + 2 is "inconsistent". Checked before any subtraction
    // below: both the key (a 512..520-bit modulus is shorter than SHA-512's hLen + 2) and
    // salt_len (from the AlgorithmIdentifier) come from the document, so nothing may wrap.
    let needed = h_len.checked_add(salt_len).and_then(|n| n.checked_add(2));
    if needed.is_none() || needed.is_some_and(|n| em_len < n) {
        return Err(CryptoError::BadSignature);
    }
    // Step 4.
    if em.last() != Some(&0xbc) {
        return Err(CryptoError::BadSignature);
    }
    let db_len = em_len - h_len - 1;
    let (masked_db, rest) = em.split_at(db_len);
    let h = &rest[..h_len];
    // Step 6: the top 8*emLen - emBits bits of maskedDB must be zero.
    let unused_bits = 8 * em_len - em_bits;
    let top_mask: u8 = 0xff >> unused_bits;
    if masked_db.first().is_some_and(|b| b & !top_mask != 0) {
        return Err(CryptoError::BadSignature);
    }
    let mut db = mgf1(alg, h, db_len);
    for (d, m) in db.iter_mut().zip(masked_db) {
        *d ^= m;
    }
    if let Some(first) = db.first_mut() {
        *first &= top_mask;
    }
    // Step 10: PS zeros then 0x01.
    let ps_len = em_len - h_len - salt_len - 2;
    if db[..ps_len].iter().any(|b| *b != 0) || db[ps_len] != 0x01 {
        return Err(CryptoError::BadSignature);
    }
    let salt = &db[db_len - salt_len..];
    let mut hasher = alg.hasher();
    hasher.update(&[0u8; 8]);
    hasher.update(m_hash);
    hasher.update(salt);
    if hasher.finish() == h {
        Ok(())
    } else {
        Err(CryptoError::BadSignature)
    }
}

#[derive(asn1::Asn1Read)]
struct DssSigValue<'a> {
    r: asn1::BigUint<'a>,
    s: asn1::BigUint<'a>,
}

/// DSA verification (FIPS 186-4 §4.7) of a precomputed hash; the signature is the DER
/// Dss-Sig-Value (RFC 3279 §2.2.2), strictly parsed.
pub(crate) fn dsa_verify(key: &DsaKey, hash: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
    let sig: DssSigValue<'_> = asn1::parse_single(signature).map_err(|_| CryptoError::BadSignature)?;
    let r = BigUint::from_bytes_be(sig.r.as_bytes());
    let s = BigUint::from_bytes_be(sig.s.as_bytes());
    if r.is_zero() || s.is_zero() || r >= key.q || s >= key.q {
        return Err(CryptoError::BadSignature);
    }
    // z = the leftmost min(N, outlen) bits of Hash(M).
    let n_bits = key.q.bits();
    let mut z = BigUint::from_bytes_be(hash);
    let out_bits = hash.len() * 8;
    if out_bits > n_bits {
        z >>= out_bits - n_bits;
    }
    let w = (&s)
        .mod_inverse(&key.q)
        .and_then(|w| w.to_biguint())
        .ok_or(CryptoError::BadSignature)?;
    let u1 = (&z * &w) % &key.q;
    let u2 = (&r * &w) % &key.q;
    let v = ((key.g.modpow(&u1, &key.p) * key.y.modpow(&u2, &key.p)) % &key.p) % &key.q;
    if v == r {
        Ok(())
    } else {
        Err(CryptoError::BadSignature)
    }
}
