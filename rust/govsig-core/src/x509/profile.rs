//! Certificate profile rules (RFC 5280 §4) checked on every certificate of a candidate path
//! (not the trust anchor, whose own constraints are `path::check_anchor`'s). Each rule names
//! its clause. Two tiers:
//!
//! - always: what no conforming CA writes and what strict validators (OpenSSL, pyca, Go)
//!   refuse: an extendedKeyUsage with no purposes, keyCertSign without cA, a malformed or
//!   empty subjectAltName, an empty subject without a critical subjectAltName;
//! - `strict_profile`: rules that certificates of older CAs break and that RFC 5280 states as
//!   CA obligations (MUST on the issuer, not on the relying party): the authority key
//!   identifier missing on a certificate that is not self-issued, AKI or SKI marked critical,
//!   SKI missing on a CA, serial numbers zero, negative or longer than 20 octets, and a CA's
//!   basicConstraints not marked critical. Off by default so that archives of older
//!   government CAs still verify; NIST PKITS also expects a non-critical basicConstraints to
//!   be accepted (4.6.4, "Valid basicConstraints Not Critical Test4").

use govsig_asn1::x509 as asn;
use govsig_asn1::x509::key_usage;

use crate::outcome::Code;
use crate::x509::cert::Certificate;
use crate::x509::path::PathError;

const SUBJECT_KEY_IDENTIFIER: &str = "2.5.29.14";
const SUBJECT_ALT_NAME: &str = "2.5.29.17";
const BASIC_CONSTRAINTS: &str = "2.5.29.19";
const AUTHORITY_KEY_IDENTIFIER: &str = "2.5.29.35";

fn malformed<E>(cert: &Certificate, what: String) -> PathError<E> {
    PathError::new(Code::CertMalformed, format!("{} {what}", cert.describe()))
}

/// Checks `cert` against the profile rules; `issues_certificates`: it issues the next
/// certificate of the path (a CA role on this path).
pub fn check<E>(cert: &Certificate, issues_certificates: bool, strict: bool) -> Result<(), PathError<E>> {
    // §4.2.1.12: ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId.
    if cert.extended_key_usage.as_ref().is_some_and(Vec::is_empty) {
        return Err(malformed(
            cert,
            "has an extendedKeyUsage with no purposes (SIZE (1..MAX), RFC 5280 §4.2.1.12)".into(),
        ));
    }
    // §4.2.1.3: "If the keyCertSign bit is asserted, then the cA bit in the basic
    // constraints extension MUST also be asserted."
    if cert.key_usage.is_some() && cert.has_key_usage(key_usage::KEY_CERT_SIGN) && !cert.is_ca() {
        return Err(PathError::new(
            Code::BasicConstraintsInvalid,
            format!(
                "{} asserts keyCertSign but basicConstraints cA is not true (RFC 5280 §4.2.1.3)",
                cert.describe()
            ),
        ));
    }
    // §4.2.1.6: GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName, each well formed.
    let san = cert.extension(SUBJECT_ALT_NAME);
    if let Some(ext) = san {
        let names = asn1::parse_single::<asn1::SequenceOf<'_, asn::GeneralName<'_>>>(&ext.value)
            .map_err(|e| malformed(cert, format!("has a malformed subjectAltName ({e}; RFC 5280 §4.2.1.6)")))?;
        if names.count() == 0 {
            return Err(malformed(
                cert,
                "has an empty subjectAltName (SIZE (1..MAX), RFC 5280 §4.2.1.6)".into(),
            ));
        }
    }
    // §4.1.2.6: an empty subject requires a subjectAltName marked critical.
    if cert.subject.is_empty() && !san.is_some_and(|e| e.critical) {
        return Err(malformed(
            cert,
            "has an empty subject and no critical subjectAltName (RFC 5280 §4.1.2.6)".into(),
        ));
    }
    if strict {
        check_strict(cert, issues_certificates)?;
    }
    Ok(())
}

fn check_strict<E>(cert: &Certificate, issues_certificates: bool) -> Result<(), PathError<E>> {
    let hint = " (strict_profile)";
    // §4.1.2.2: a positive integer, at most 20 octets.
    let serial = cert.serial.as_slice();
    if serial.len() > 20 {
        return Err(malformed(
            cert,
            format!(
                "has a serial number of {} octets, over 20 (RFC 5280 §4.1.2.2){hint}",
                serial.len()
            ),
        ));
    }
    if serial.first().is_some_and(|b| b & 0x80 != 0) {
        return Err(malformed(
            cert,
            format!("has a negative serial number (RFC 5280 §4.1.2.2){hint}"),
        ));
    }
    if serial.iter().all(|&b| b == 0) {
        return Err(malformed(
            cert,
            format!("has serial number zero (RFC 5280 §4.1.2.2){hint}"),
        ));
    }
    // §4.2.1.1: AKI present in every certificate but self-signed ones, never critical.
    match cert.extension(AUTHORITY_KEY_IDENTIFIER) {
        None if !cert.is_self_issued() => {
            return Err(malformed(
                cert,
                format!("has no authorityKeyIdentifier (RFC 5280 §4.2.1.1){hint}"),
            ))
        }
        Some(e) if e.critical => {
            return Err(malformed(
                cert,
                format!("marks authorityKeyIdentifier critical (RFC 5280 §4.2.1.1){hint}"),
            ))
        }
        _ => {}
    }
    // §4.2.1.2: SKI in every CA certificate, never critical.
    match cert.extension(SUBJECT_KEY_IDENTIFIER) {
        None if cert.is_ca() => {
            return Err(malformed(
                cert,
                format!("is a CA without subjectKeyIdentifier (RFC 5280 §4.2.1.2){hint}"),
            ))
        }
        Some(e) if e.critical => {
            return Err(malformed(
                cert,
                format!("marks subjectKeyIdentifier critical (RFC 5280 §4.2.1.2){hint}"),
            ))
        }
        _ => {}
    }
    // §4.2.1.9: CAs MUST mark basicConstraints critical.
    if issues_certificates && cert.extension(BASIC_CONSTRAINTS).is_some_and(|e| !e.critical) {
        return Err(PathError::new(
            Code::BasicConstraintsInvalid,
            format!(
                "{} issues certificates but its basicConstraints is not critical (RFC 5280 §4.2.1.9){hint}",
                cert.describe()
            ),
        ));
    }
    Ok(())
}
