//! The catalogue of signer warnings: things that did not fail a signer but must be said.
//! Like outcome codes ([`crate::outcome`]), each has a stable snake_case name and a
//! description, listable from Python (`govsig.warning_descriptions()`); the text about the
//! one case (which algorithm, which certificate) is the warning's `detail`. Append only:
//! names are a contract with the users who match on them.

/// A warning's stable identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WarningCode {
    /// PKCS#7 v1.5 content that is not an OCTET STRING (RFC 2315 §7, §9.3).
    EcontentNotOctetString,
    /// A signature algorithm OID where the digest algorithm belongs.
    DigestAlgorithmIsSignatureAlgorithm,
    /// Several certificates match the signer identifier.
    SignerIdentifierAmbiguous,
    /// A certificate of the path was revoked after the signature time.
    RevokedAfterSignature,
    /// signingTime differs from the time-stamped signature time beyond the tolerance.
    SigningTimeMismatch,
    /// A legacy algorithm (SHA-1, DSA) admitted in a certificate signature on the path, or on
    /// a path nested in what decided it (CRL signer, OCSP responder, valid time-stamp's TSA).
    LegacyAlgorithmCertificate,
    /// A legacy algorithm admitted in the signature of a CRL that decided a status.
    LegacyAlgorithmCrl,
    /// A legacy algorithm admitted in the signature of an OCSP response that decided a status.
    LegacyAlgorithmOcsp,
    /// A legacy algorithm admitted in the document signature itself.
    LegacyAlgorithmSignature,
    /// A countersignature of the signer failed (its own result says why).
    CountersignatureInvalid,
    /// signingTime is earlier than a valid content time-stamp.
    SigningTimeBeforeContentTimestamp,
}

impl WarningCode {
    /// Every warning, in catalogue order.
    pub const ALL: [WarningCode; 11] = [
        WarningCode::EcontentNotOctetString,
        WarningCode::DigestAlgorithmIsSignatureAlgorithm,
        WarningCode::SignerIdentifierAmbiguous,
        WarningCode::RevokedAfterSignature,
        WarningCode::SigningTimeMismatch,
        WarningCode::LegacyAlgorithmCertificate,
        WarningCode::LegacyAlgorithmCrl,
        WarningCode::LegacyAlgorithmOcsp,
        WarningCode::LegacyAlgorithmSignature,
        WarningCode::CountersignatureInvalid,
        WarningCode::SigningTimeBeforeContentTimestamp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            WarningCode::EcontentNotOctetString => "econtent_not_octet_string",
            WarningCode::DigestAlgorithmIsSignatureAlgorithm => "digest_algorithm_is_signature_algorithm",
            WarningCode::SignerIdentifierAmbiguous => "signer_identifier_ambiguous",
            WarningCode::RevokedAfterSignature => "revoked_after_signature",
            WarningCode::SigningTimeMismatch => "signing_time_mismatch",
            WarningCode::LegacyAlgorithmCertificate => "legacy_algorithm_certificate",
            WarningCode::LegacyAlgorithmCrl => "legacy_algorithm_crl",
            WarningCode::LegacyAlgorithmOcsp => "legacy_algorithm_ocsp",
            WarningCode::LegacyAlgorithmSignature => "legacy_algorithm_signature",
            WarningCode::CountersignatureInvalid => "countersignature_invalid",
            WarningCode::SigningTimeBeforeContentTimestamp => "signing_time_before_content_timestamp",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            WarningCode::EcontentNotOctetString => {
                "the content is PKCS#7 v1.5 content that is not an OCTET STRING (RFC 2315 §7); its value \
                 octets were digested, as RFC 2315 §9.3 says"
            }
            WarningCode::DigestAlgorithmIsSignatureAlgorithm => {
                "digestAlgorithm holds a signature algorithm; it was read as that algorithm's hash, as \
                 OpenSSL and BouncyCastle do"
            }
            WarningCode::SignerIdentifierAmbiguous => {
                "several certificates match the signer identifier; the detail names the one that verified"
            }
            WarningCode::RevokedAfterSignature => {
                "a certificate of the path was revoked after the signature time (the signature was made \
                 before the revocation); the revocation evidence says when and why"
            }
            WarningCode::SigningTimeMismatch => {
                "the signer's signingTime differs from the time-stamped signature time by more than the \
                 policy's signing_time_tolerance"
            }
            WarningCode::LegacyAlgorithmCertificate => {
                "a certificate on the path (or on the path of a CRL signer, OCSP responder or TSA that \
                 decided) is signed with a legacy algorithm (SHA-1 or DSA), admitted by legacy or \
                 legacy_certificates"
            }
            WarningCode::LegacyAlgorithmCrl => {
                "a CRL that decided a revocation status is signed with a legacy algorithm (SHA-1 or DSA), \
                 admitted by legacy or legacy_certificates"
            }
            WarningCode::LegacyAlgorithmOcsp => {
                "an OCSP response that decided a revocation status is signed with a legacy algorithm \
                 (SHA-1 or DSA), admitted by legacy or legacy_certificates"
            }
            WarningCode::LegacyAlgorithmSignature => {
                "the document signature, or a valid time-stamp token's own signature, uses a legacy \
                 algorithm (SHA-1 digest or DSA), admitted by legacy"
            }
            WarningCode::CountersignatureInvalid => {
                "a countersignature of the signer failed (its own result says why); a countersignature is \
                 added after the fact, outside what the signer signed (RFC 5652 §11.4), so it does not fail \
                 the signer"
            }
            WarningCode::SigningTimeBeforeContentTimestamp => {
                "the signer's signingTime is earlier than a valid content time-stamp, which proves the \
                 content did not exist before its genTime: the claimed time cannot be true"
            }
        }
    }
}

/// One warning on a signer: its code, and the detail of this case for a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub code: WarningCode,
    pub detail: String,
}

impl Warning {
    pub fn new(code: WarningCode, detail: impl Into<String>) -> Warning {
        Warning {
            code,
            detail: detail.into(),
        }
    }
}
