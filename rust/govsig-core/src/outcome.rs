//! The one catalogue of outcome codes: stable numbers (they index `codes()` and fill the
//! numeric arrays of batch results), snake_case names, and a rank that decides which failure
//! is reported when several candidate paths or signers fail (the most specific wins, as in
//! rustls-webpki's error ranking: "expired" says more than "no issuer").
//!
//! Numbers are append-only: never renumber or reuse one.

macro_rules! codes {
    ($( $variant:ident = $num:literal, $name:literal, $rank:literal, $doc:literal; )*) => {
        /// A verification outcome. `Ok` is 0; every other value is a reason to refuse.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        #[repr(u8)]
        pub enum Code {
            $( #[doc = $doc] $variant = $num, )*
        }

        impl Code {
            /// Every code, in numeric order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The stable snake_case name.
            pub fn name(self) -> &'static str {
                match self { $( Code::$variant => $name, )* }
            }

            /// One-line description of what the code means.
            pub fn description(self) -> &'static str {
                match self { $( Code::$variant => $doc, )* }
            }

            /// Specificity when choosing between failures: higher says more about the input.
            pub fn rank(self) -> u8 {
                match self { $( Code::$variant => $rank, )* }
            }

            /// The stable number.
            pub fn number(self) -> u8 {
                self as u8
            }

            pub fn from_number(n: u8) -> Option<Code> {
                Code::ALL.iter().copied().find(|c| c.number() == n)
            }

            pub fn from_name(s: &str) -> Option<Code> {
                Code::ALL.iter().copied().find(|c| c.name() == s)
            }
        }
    };
}

codes! {
    Ok = 0, "ok", 0, "the signature is valid and its signer is trusted under the policy";
    Malformed = 1, "malformed", 50, "the input is not a well-formed CMS SignedData (DER or BER)";
    UnsupportedAlgorithm = 2, "unsupported_algorithm", 60, "an algorithm (digest, signature, key) is not supported";
    ContentMissing = 3, "content_missing", 55, "detached signature but no content was given";
    DigestMismatch = 4, "digest_mismatch", 90, "the messageDigest attribute does not match the content";
    ContentTypeMismatch = 5, "content_type_mismatch", 85, "the contentType attribute does not match eContentType";
    SignatureInvalid = 6, "signature_invalid", 95, "the signature value does not verify with the signer's key";
    SignerNotFound = 7, "signer_not_found", 40, "no certificate matches the SignerInfo's signer identifier";
    ChainUntrusted = 8, "chain_untrusted", 10, "no path from the signer certificate to a trust anchor";
    CertExpired = 9, "cert_expired", 80, "a certificate on the path had expired at the validation time";
    CertNotYetValid = 10, "cert_not_yet_valid", 80, "a certificate on the path was not yet valid at the validation time";
    KeyUsageInvalid = 11, "key_usage_invalid", 75, "a certificate's keyUsage or extendedKeyUsage does not allow its use";
    PathTooLong = 12, "path_too_long", 30, "the path exceeds max_chain_depth or a pathLenConstraint";
    BudgetExceeded = 13, "budget_exceeded", 35, "path building exceeded its work budget";
    IntegrityOnly = 14, "integrity_only", 5, "signatures are intact but no trust decision was made (no trust store)";
    AlgorithmNotAllowed = 15, "algorithm_not_allowed", 65, "a legacy algorithm (SHA-1, DSA) is refused by the policy";
    WeakKey = 16, "weak_key", 65, "a key is smaller than the policy's minimum";
    SignedAttributesInvalid = 17, "signed_attributes_invalid", 70, "signed attributes are missing, duplicated or malformed";
    SigningCertificateMismatch = 18, "signing_certificate_mismatch", 88, "the ESS signing-certificate attribute names another certificate";
    CertSignatureInvalid = 19, "cert_signature_invalid", 78, "a certificate's signature does not verify with its issuer's key";
    CertMalformed = 20, "cert_malformed", 45, "a certificate on the path could not be parsed";
    BasicConstraintsInvalid = 21, "basic_constraints_invalid", 76, "an issuing certificate is not a CA (basicConstraints)";
    CertRevoked = 22, "cert_revoked", 98, "a certificate on the path is revoked";
    RevocationUnknown = 23, "revocation_unknown", 20, "revocation status could not be determined";
    CrlInvalid = 24, "crl_invalid", 25, "a CRL was malformed, badly signed, out of scope or stale";
    PolicyInvalid = 25, "policy_invalid", 72, "certificate policy processing failed (RFC 5280 §6.1.3-6.1.5)";
    NameConstraintsViolated = 26, "name_constraints_violated", 74, "a name violates a name constraint of an issuing CA";
    UnknownCriticalExtension = 27, "unknown_critical_extension", 73, "a certificate has a critical extension govsig does not process";
    OcspInvalid = 28, "ocsp_invalid", 26, "an OCSP response was malformed, badly signed, unsuccessful or for another certificate";
    OcspUnauthorizedResponder = 29, "ocsp_unauthorized_responder", 27, "an OCSP response was signed by a responder not authorised for the certificate's issuer";
    OcspStale = 30, "ocsp_stale", 24, "an OCSP response was not fresh at the validation time (thisUpdate/nextUpdate)";
    OcspNonceMismatch = 31, "ocsp_nonce_mismatch", 28, "an OCSP response does not echo the nonce of the request (a replay)";
    FetchFailed = 32, "fetch_failed", 15, "revocation evidence (CRL or OCSP) could not be fetched";
    TimestampInvalid = 33, "timestamp_invalid", 86, "a time-stamp token is malformed, its own signature or ESS binding fails, or its TSTInfo is inconsistent (RFC 3161 §2.4.2)";
    TimestampImprintMismatch = 34, "timestamp_imprint_mismatch", 89, "a time-stamp token's messageImprint is not the hash of the data it should stamp";
    TimestampUntrusted = 35, "timestamp_untrusted", 12, "the TSA's certificate chain does not validate against the trust store";
    TimestampTsaUnauthorized = 36, "timestamp_tsa_unauthorized", 77, "a time-stamp token is signed by a certificate without the critical, sole extendedKeyUsage id-kp-timeStamping (RFC 3161 §2.3)";
    TimestampRejected = 37, "timestamp_rejected", 16, "the TSA refused the request (PKIStatus rejection, waiting or revocation) or answered something other than a TimeStampResp";
    TimestampNonceMismatch = 38, "timestamp_nonce_mismatch", 29, "a TSA response does not echo the request's nonce (a replay or a mix-up)";
    CertOnHold = 39, "cert_on_hold", 97, "a certificate on the path is on hold (certificateHold) at the validation time";
    InternalError = 40, "internal_error", 1, "govsig itself failed (a bug, please report it); says nothing about the input";
    FileSkipped = 41, "file_skipped", 3, "an archive entry was not read: not a regular file (FIFO, device, socket, directory) or a symbolic link not followed";
    FileUnreadable = 42, "file_unreadable", 3, "an archive entry could not be opened or read (permission, I/O error, dangling symbolic link)";
    FileTooLarge = 43, "file_too_large", 3, "an archive entry is larger than the job's size cap and was not read";
    FileVanished = 44, "file_vanished", 3, "an archive entry disappeared or changed into something else between listing and reading";
    FileSymlinkLoop = 45, "file_symlink_loop", 3, "an archive entry is a symbolic link that loops, or leads back into a folder already walked";
    TimestampMissing = 46, "timestamp_missing", 84, "the policy requires a signature time-stamp (require_timestamp) and the signer has none";
    NoSignature = 47, "no_signature", 3, "the PDF has no signature field holding a signature";
    PdfMalformed = 48, "pdf_malformed", 50, "the PDF could not be read (structure, cross-reference data or limits), so no signature in it can be judged";
    ByteRangeInvalid = 49, "byte_range_invalid", 92, "a PDF signature's /ByteRange is not [0 a b c] around exactly its /Contents string, ends outside its revision, or /Contents holds more than the CMS and zero padding";
    ModifiedAfterSigning = 50, "modified_after_signing", 94, "a PDF was changed after it was signed in a way the signature (or the certifying signature's DocMDP level) does not permit";
    TimestampOrderFailure = 51, "timestamp_order_failure", 83, "a valid signature time-stamp is earlier than a valid content time-stamp of the same signer: the two cannot both be true (ETSI EN 319 102-1 time-stamp order)";
}

impl Code {
    /// The outcome for a failed signature check: algorithm and key-size refusals have their
    /// own codes; a bad signature, a bad key or a key of the wrong type is `bad_signature`
    /// (which names what was being verified: a document, a certificate, a CRL).
    pub fn for_crypto_error(e: &crate::crypto::CryptoError, bad_signature: Code) -> Code {
        use crate::crypto::CryptoError as C;
        match e {
            C::UnsupportedAlgorithm(_) => Code::UnsupportedAlgorithm,
            C::LegacyNotAllowed(_) => Code::AlgorithmNotAllowed,
            C::WeakKey(_) => Code::WeakKey,
            C::InvalidKey(_) | C::KeyAlgorithmMismatch(_) | C::BadSignature => bad_signature,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_dense_and_names_unique() {
        for (i, c) in Code::ALL.iter().enumerate() {
            assert_eq!(usize::from(c.number()), i, "{c:?}");
            assert_eq!(Code::from_name(c.name()), Some(*c));
        }
        let mut names: Vec<_> = Code::ALL.iter().map(|c| c.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Code::ALL.len());
        assert_eq!(Code::ALL[0].name(), "ok");
    }
}
