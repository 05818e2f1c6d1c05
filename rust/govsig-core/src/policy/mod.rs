//! One immutable set of knobs for a verification run. Each rule names the RFC clause it
//! implements and any deliberate deviation.

use crate::time::UnixTime;

pub mod knobs;
pub use knobs::{KnobError, KnobKind, KnobSpec, KnobValue, KNOBS};

/// Which keyUsage bits a certificate role needs: at least one of them (an empty list
/// requires nothing). RFC 5280 §4.2.1.3 leaves the choice to the application; for CMS
/// signers govsig asks for digitalSignature or nonRepudiation (RFC 5280 §4.2.1.3 and the
/// ETSI/Decree 68 practice of nonRepudiation-only signing certificates).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyUsageRule {
    pub any_of: Vec<usize>,
}

impl KeyUsageRule {
    pub fn cms_signer_default() -> Self {
        KeyUsageRule { any_of: vec![0, 1] }
    }
}

/// Work limits for path building (as pyca/cryptography's Budget): exhausting one is a
/// failure of its own (`budget_exceeded`), never a silent "untrusted".
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Budget {
    /// Signature verifications during path building for one leaf.
    pub max_signature_checks: usize,
    /// Complete candidate paths validated for one leaf.
    pub max_paths: usize,
    /// Name-constraint comparisons for one leaf.
    pub max_name_constraint_checks: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_signature_checks: 64,
            max_paths: 32,
            max_name_constraint_checks: 65_536,
        }
    }
}

/// The verification policy.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Policy {
    /// Validation time; `None` means "now" at each call.
    pub at: Option<UnixTime>,
    /// Accept SHA-1 and DSA (legacy archives); off by default.
    pub legacy: bool,
    /// Maximum number of intermediate certificates between signer and anchor (counted as
    /// x509-limbo does: the anchor and the leaf are not counted).
    pub max_chain_depth: usize,
    /// Minimum RSA modulus size in bits for every key on the path and the signer's.
    pub min_rsa_bits: usize,
    /// keyUsage requirement for the CMS signer / end-entity certificate.
    pub signer_key_usage: KeyUsageRule,
    /// extendedKeyUsage OIDs the end entity must carry (any of them; anyExtendedKeyUsage
    /// satisfies it, RFC 5280 §4.2.1.12); `None` = not checked.
    pub extended_key_usage: Option<Vec<String>>,
    pub budget: Budget,
    /// RFC 5280 §6.1.1 (c), (e), (f), (g): the certificate policy inputs, processed with the
    /// RFC 9618 policy graph (see `x509::policy_graph`).
    pub policy_inputs: crate::x509::policy_graph::PolicyInputs,
    /// Revocation checking of every certificate on the path (RFC 5280 §6.3): off, soft-fail
    /// (undetermined passes) or hard-fail (undetermined fails with `revocation_unknown`).
    pub revocation: crate::revocation::RevocationMode,
    /// Where revocation evidence is fetched from, in this order (RFC 6960 OCSP, RFC 5280
    /// CRLs). It orders only what is asked for (and which of two agreeing "good" answers is
    /// named); every piece of evidence at hand is believed alike (`revocation::decide`).
    pub revocation_sources: Vec<crate::revocation::RevocationSource>,
    /// Seconds of clock skew forgiven on OCSP thisUpdate/nextUpdate (RFC 6960 §4.2.2.1
    /// leaves the margin to local policy).
    pub ocsp_skew: i64,
    /// RFC 5937: a trust anchor's own constraints apply (its validity period at the
    /// validation time, its nameConstraints over the whole path, its unknown critical
    /// extensions refused), as OpenSSL, Go and pyca do. `false` treats anchors as bare keys
    /// (name and key only, RFC 5280 §6.1.1 (d)).
    pub anchor_constraints: bool,
    /// RFC 5280 §4 profile rules that older CAs break (AKI missing or critical, SKI missing
    /// on a CA or critical, serial numbers zero, negative or over 20 octets, a CA's
    /// basicConstraints not critical). Off by default: archives of older government CAs must
    /// still verify; the always-on rules are in `x509::profile`.
    pub strict_profile: bool,
    /// Admit legacy algorithms (SHA-1, DSA) in the signatures of certificates, CRLs and OCSP
    /// responses only, while document signatures stay SHA-2/SHA-3: the first-generation
    /// Vietnamese government CA tree signs its certificates with SHA-1. `legacy` admits them
    /// everywhere.
    pub legacy_certificates: bool,
    /// The time each signer is judged at (ETSI EN 319 102-1 "best signature time"): the
    /// policy's `at`, the earliest valid RFC 3161 signature time-stamp, or (flagged as
    /// claimed) the self-asserted signingTime.
    pub signature_time: SignatureTime,
    /// A signer without a valid signature time-stamp fails instead of falling back.
    pub require_timestamp: bool,
    /// Seconds a signingTime may differ from the proven signature time before a warning.
    pub signing_time_tolerance: i64,
    /// When a TSA's chain is judged: at `at` (default, as `openssl ts -verify`) or at the
    /// token's genTime (its revocation still as of `at`).
    pub tsa_validation: TsaValidation,
}

/// Where the time a signer is judged at comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SignatureTime {
    /// The policy's `at` (default now) for every check.
    #[default]
    At,
    /// The earliest valid signature time-stamp (RFC 3161 Appendix A), else `at`.
    Timestamp,
    /// As `Timestamp`, else the signingTime attribute (self-asserted), else `at`.
    Claimed,
}

/// When the TSA's own chain is validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum TsaValidation {
    #[default]
    At,
    GenTime,
}

impl Policy {
    /// Whether legacy algorithms are admitted in signatures on certificates, CRLs and OCSP
    /// responses (`legacy` or `legacy_certificates`).
    pub fn legacy_for_certificates(&self) -> bool {
        self.legacy || self.legacy_certificates
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            at: None,
            legacy: false,
            max_chain_depth: 8,
            min_rsa_bits: 2048,
            signer_key_usage: KeyUsageRule::cms_signer_default(),
            extended_key_usage: None,
            budget: Budget::default(),
            policy_inputs: crate::x509::policy_graph::PolicyInputs::default(),
            revocation: crate::revocation::RevocationMode::SoftFail,
            revocation_sources: vec![
                crate::revocation::RevocationSource::Ocsp,
                crate::revocation::RevocationSource::Crl,
            ],
            ocsp_skew: 300,
            anchor_constraints: true,
            strict_profile: false,
            legacy_certificates: false,
            signature_time: SignatureTime::At,
            require_timestamp: false,
            signing_time_tolerance: 3600,
            tsa_validation: TsaValidation::At,
        }
    }
}
