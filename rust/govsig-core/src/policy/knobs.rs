//! The policy's knobs by name: one table that says, for each, its kind, its range or its
//! allowed values, and what it means. Every front end (the Python `Policy`, a configuration
//! file) reads and writes knobs through [`Policy::knob`] and [`Policy::set_knob`], so a knob
//! is defined, defaulted and validated here once: adding one means a row in [`KNOBS`], its
//! arm in `knob`/`set_knob`, and the stub of the front end.

use super::{KeyUsageRule, Policy, SignatureTime, TsaValidation};
use crate::revocation::{RevocationMode, RevocationSource};
use crate::time::UnixTime;
use govsig_asn1::x509::key_usage;
use std::fmt;

/// What values a knob takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KnobKind {
    /// `true` or `false`.
    Bool,
    /// An integer within `min..=max`, with the unit said in messages.
    Int { min: i64, max: i64, unit: &'static str },
    /// A moment (seconds since the epoch) or none ("now").
    Time,
    /// One name of a fixed list.
    Choice(&'static [&'static str]),
    /// Names of a fixed list, each at most once; `may_be_empty` says whether none is allowed.
    Choices {
        allowed: &'static [&'static str],
        may_be_empty: bool,
    },
    /// Dotted object identifiers; at least one.
    Oids,
    /// Dotted object identifiers (at least one), or none for "not checked".
    OptionalOids,
}

/// One knob: its name (the keyword callers use), its kind and one line on what it does.
#[derive(Clone, Copy, Debug)]
pub struct KnobSpec {
    pub name: &'static str,
    pub kind: KnobKind,
    pub doc: &'static str,
}

/// A knob's value as front ends exchange it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KnobValue {
    Bool(bool),
    Int(i128),
    Time(Option<UnixTime>),
    Name(String),
    Names(Vec<String>),
    OptionalNames(Option<Vec<String>>),
}

/// Why a knob could not be set. `Display` names the knob and says what it accepts, in words
/// a caller can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KnobError {
    /// No knob has that name.
    Unknown { name: String },
    /// The value is of the wrong kind for the knob (a string where names are expected, ...).
    WrongKind { name: &'static str, expected: &'static str },
    /// The value is of the right kind but not one the knob accepts.
    Invalid { name: &'static str, message: String },
}

impl fmt::Display for KnobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KnobError::Unknown { name } => {
                let known: Vec<&str> = KNOBS.iter().map(|k| k.name).collect();
                write!(f, "unknown Policy knob {name:?}; the knobs are: {}", known.join(", "))
            }
            KnobError::WrongKind { name, expected } => write!(f, "{name} must be {expected}"),
            // "extended_key_usage=() accepts ..." reads as the call the caller wrote.
            KnobError::Invalid { name, message } if message.starts_with('=') => write!(f, "{name}{message}"),
            KnobError::Invalid { name, message } => write!(f, "{name} {message}"),
        }
    }
}

impl std::error::Error for KnobError {}

/// The names of the revocation modes, in [`RevocationMode`] order.
pub const REVOCATION_MODES: &[&str] = &["off", "soft-fail", "hard-fail"];
/// The names of the revocation sources.
pub const REVOCATION_SOURCES: &[&str] = &["ocsp", "crl"];
/// The keyUsage bit names (RFC 5280 §4.2.1.3), by bit number.
pub const KEY_USAGE_NAMES: &[&str] = &key_usage::NAMES;

/// Every knob, in the order front ends list them.
pub const KNOBS: &[KnobSpec] = &[
    KnobSpec {
        name: "at",
        kind: KnobKind::Time,
        doc: "validation time; none means now, at each call",
    },
    KnobSpec {
        name: "legacy",
        kind: KnobKind::Bool,
        doc: "accept SHA-1 and DSA everywhere (legacy archives)",
    },
    KnobSpec {
        name: "max_chain_depth",
        kind: KnobKind::Int {
            min: 0,
            max: 64,
            unit: "intermediates",
        },
        doc: "most intermediate certificates between signer and anchor",
    },
    KnobSpec {
        name: "min_rsa_bits",
        kind: KnobKind::Int {
            min: 0,
            max: 16384,
            unit: "bits; RSA keys above 16384 bits are refused anyway",
        },
        doc: "smallest RSA modulus accepted for any key",
    },
    KnobSpec {
        name: "key_usage",
        kind: KnobKind::Choices {
            allowed: KEY_USAGE_NAMES,
            may_be_empty: true,
        },
        doc: "keyUsage bits of which the signer must carry at least one; none requires nothing",
    },
    KnobSpec {
        name: "extended_key_usage",
        kind: KnobKind::OptionalOids,
        doc: "extendedKeyUsage purposes of which the signer must carry one; none means unchecked",
    },
    KnobSpec {
        name: "max_signature_checks",
        kind: KnobKind::Int {
            min: 0,
            max: 1_000_000,
            unit: "signature checks per signer",
        },
        doc: "path-building budget: signature verifications per signer",
    },
    KnobSpec {
        name: "max_paths",
        kind: KnobKind::Int {
            min: 0,
            max: 1_000_000,
            unit: "candidate paths per signer",
        },
        doc: "path-building budget: complete candidate paths per signer",
    },
    KnobSpec {
        name: "user_initial_policy_set",
        kind: KnobKind::Oids,
        doc: "RFC 5280 §6.1.1 (c): certificate policies acceptable to the relying party",
    },
    KnobSpec {
        name: "initial_explicit_policy",
        kind: KnobKind::Bool,
        doc: "RFC 5280 §6.1.1 (f): the path must be valid for at least one policy",
    },
    KnobSpec {
        name: "initial_policy_mapping_inhibit",
        kind: KnobKind::Bool,
        doc: "RFC 5280 §6.1.1 (e): policy mapping is not allowed",
    },
    KnobSpec {
        name: "initial_any_policy_inhibit",
        kind: KnobKind::Bool,
        doc: "RFC 5280 §6.1.1 (g): anyPolicy in certificates is not taken as a match",
    },
    KnobSpec {
        name: "require_acceptable_policy",
        kind: KnobKind::Bool,
        doc: "refuse a path valid for none of the user's policies (PKITS's reading)",
    },
    KnobSpec {
        name: "revocation",
        kind: KnobKind::Choice(REVOCATION_MODES),
        doc: "off, soft-fail (undetermined passes) or hard-fail (undetermined fails)",
    },
    KnobSpec {
        name: "revocation_sources",
        kind: KnobKind::Choices {
            allowed: REVOCATION_SOURCES,
            may_be_empty: false,
        },
        doc: "the order in which missing evidence is fetched; never which evidence is believed",
    },
    KnobSpec {
        name: "anchor_constraints",
        kind: KnobKind::Bool,
        doc: "RFC 5937: an anchor's validity, nameConstraints and critical extensions apply; False: bare keys",
    },
    KnobSpec {
        name: "strict_profile",
        kind: KnobKind::Bool,
        doc:
            "also refuse what RFC 5280 §4 forbids but older CAs write (AKI/SKI, serials, non-critical basicConstraints)",
    },
    KnobSpec {
        name: "legacy_certificates",
        kind: KnobKind::Bool,
        doc: "accept SHA-1 and DSA in certificate, CRL and OCSP signatures only (document signatures stay SHA-2/SHA-3)",
    },
    KnobSpec {
        name: "ocsp_skew",
        kind: KnobKind::Int {
            min: 0,
            max: 7 * 86400,
            unit: "seconds (a week)",
        },
        doc: "seconds of clock skew forgiven on OCSP thisUpdate/nextUpdate",
    },
    KnobSpec {
        name: "signature_time",
        kind: KnobKind::Choice(SIGNATURE_TIMES),
        doc: "when each signer is judged: at (the policy's time), timestamp (earliest valid \
              signature time-stamp, else at) or claimed (timestamp, else signingTime, else at)",
    },
    KnobSpec {
        name: "require_timestamp",
        kind: KnobKind::Bool,
        doc: "a signer without a valid signature time-stamp fails instead of falling back",
    },
    KnobSpec {
        name: "signing_time_tolerance",
        kind: KnobKind::Int {
            min: 0,
            max: 366 * 86400,
            unit: "seconds (a year)",
        },
        doc: "seconds a signingTime may differ from the time-stamped signature time without a warning",
    },
    KnobSpec {
        name: "tsa_validation",
        kind: KnobKind::Choice(TSA_VALIDATIONS),
        doc: "when a TSA's chain is judged: at (the policy's time) or gen_time (the token's genTime; \
              revocation still as of at)",
    },
];

/// The names of the signature-time sources, in [`SignatureTime`] order.
pub const SIGNATURE_TIMES: &[&str] = &["at", "timestamp", "claimed"];
/// The names of the TSA validation times, in [`TsaValidation`] order.
pub const TSA_VALIDATIONS: &[&str] = &["at", "gen_time"];

impl SignatureTime {
    pub fn name(self) -> &'static str {
        match self {
            SignatureTime::At => SIGNATURE_TIMES[0],
            SignatureTime::Timestamp => SIGNATURE_TIMES[1],
            SignatureTime::Claimed => SIGNATURE_TIMES[2],
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        [SignatureTime::At, SignatureTime::Timestamp, SignatureTime::Claimed]
            .into_iter()
            .find(|m| m.name() == s)
    }
}

impl TsaValidation {
    pub fn name(self) -> &'static str {
        match self {
            TsaValidation::At => TSA_VALIDATIONS[0],
            TsaValidation::GenTime => TSA_VALIDATIONS[1],
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        [TsaValidation::At, TsaValidation::GenTime]
            .into_iter()
            .find(|m| m.name() == s)
    }
}

/// The row of the knob called `name`.
pub fn spec(name: &str) -> Option<&'static KnobSpec> {
    KNOBS.iter().find(|k| k.name == name)
}

impl KnobKind {
    /// What the kind accepts, in words (for messages).
    pub fn expected(&self) -> &'static str {
        match self {
            KnobKind::Bool => "True or False",
            KnobKind::Int { .. } => "an int",
            KnobKind::Time => "a datetime or None",
            KnobKind::Choice(_) => "one name (a str)",
            KnobKind::Choices { .. } => "a name or a sequence of names (str)",
            KnobKind::Oids => "a dotted OID or a sequence of them (str)",
            KnobKind::OptionalOids => "None, a dotted OID or a sequence of them (str)",
        }
    }
}

impl KnobSpec {
    /// The message for an integer too large to hold at all (`shown` is how the caller wrote
    /// it), in the same words as any other value out of range.
    pub fn out_of_range(&self, shown: &str) -> KnobError {
        match self.kind {
            KnobKind::Int { min, max, unit } => KnobError::Invalid {
                name: self.name,
                message: format!("must be between {min} and {max} ({unit}), got {shown}"),
            },
            _ => KnobError::WrongKind {
                name: self.name,
                expected: self.kind.expected(),
            },
        }
    }

    /// The message for an entry of a list knob that is not text at all (`shown` is how the
    /// caller wrote it), in the same words as an entry that is text but not accepted.
    pub fn entry_not_text(&self, shown: &str) -> KnobError {
        let message = match self.kind {
            KnobKind::Oids | KnobKind::OptionalOids => {
                format!("entries must be dotted OIDs such as 1.3.6.1.5.5.7.3.4, got {shown}")
            }
            KnobKind::Choices { allowed, .. } | KnobKind::Choice(allowed) => {
                format!("has unknown name {shown}; expected one of {}", allowed.join(", "))
            }
            _ => {
                return KnobError::WrongKind {
                    name: self.name,
                    expected: self.kind.expected(),
                }
            }
        };
        KnobError::Invalid {
            name: self.name,
            message,
        }
    }

    /// Check `value` against this knob's kind and range, returning it normalised (names in
    /// the order given, duplicates refused).
    fn check(&self, value: KnobValue) -> Result<KnobValue, KnobError> {
        let wrong = || KnobError::WrongKind {
            name: self.name,
            expected: self.kind.expected(),
        };
        let invalid = |message: String| KnobError::Invalid {
            name: self.name,
            message,
        };
        match (self.kind, value) {
            (KnobKind::Bool, v @ KnobValue::Bool(_)) => Ok(v),
            (KnobKind::Int { min, max, .. }, KnobValue::Int(n)) => {
                if n < i128::from(min) || n > i128::from(max) {
                    Err(self.out_of_range(&n.to_string()))
                } else {
                    Ok(KnobValue::Int(n))
                }
            }
            (KnobKind::Time, v @ KnobValue::Time(_)) => Ok(v),
            (KnobKind::Choice(allowed), KnobValue::Name(s)) => {
                if allowed.contains(&s.as_str()) {
                    Ok(KnobValue::Name(s))
                } else {
                    Err(invalid(format!(
                        "must be one of {}, got {}",
                        allowed.join(", "),
                        shown(&s)
                    )))
                }
            }
            (KnobKind::Choices { allowed, may_be_empty }, KnobValue::Names(names)) => {
                if names.is_empty() && !may_be_empty {
                    return Err(invalid(format!("must name at least one of {}", allowed.join(", "))));
                }
                for (i, n) in names.iter().enumerate() {
                    if !allowed.contains(&n.as_str()) {
                        return Err(invalid(format!(
                            "has unknown name {}; expected one of {}",
                            shown(n),
                            allowed.join(", ")
                        )));
                    }
                    if names[..i].contains(n) {
                        return Err(invalid(format!("names {} twice", shown(n))));
                    }
                }
                Ok(KnobValue::Names(names))
            }
            (KnobKind::Oids, KnobValue::Names(oids)) => {
                if oids.is_empty() {
                    return Err(invalid(
                        "must not be empty (use anyPolicy, 2.5.29.32.0, to accept any)".into(),
                    ));
                }
                check_oids(self.name, &oids)?;
                Ok(KnobValue::Names(oids))
            }
            (KnobKind::OptionalOids, KnobValue::OptionalNames(None)) => Ok(KnobValue::OptionalNames(None)),
            (KnobKind::OptionalOids, KnobValue::OptionalNames(Some(oids)) | KnobValue::Names(oids)) => {
                if oids.is_empty() {
                    // An empty set would refuse every signer: almost surely meant "do not check".
                    return Err(invalid("=() accepts no certificate; use None for unchecked".into()));
                }
                check_oids(self.name, &oids)?;
                Ok(KnobValue::OptionalNames(Some(oids)))
            }
            (KnobKind::Choices { .. }, KnobValue::Name(n)) | (KnobKind::Oids, KnobValue::Name(n)) => {
                self.check(KnobValue::Names(vec![n]))
            }
            (KnobKind::OptionalOids, KnobValue::Name(n)) => self.check(KnobValue::OptionalNames(Some(vec![n]))),
            _ => Err(wrong()),
        }
    }
}

/// Dotted OID text as certificates carry it: at least two arcs, no leading zeros, the first
/// arc 0..2 and the second below 40 under 0 and 1 (X.660 §A.1). A typo such as
/// "1.3.6.1.5.5.7.3.04" or "id-kp-emailProtection" would otherwise never match and silently
/// refuse every signer.
pub fn is_dotted_oid(s: &str) -> bool {
    let arcs: Vec<&str> = s.split('.').collect();
    if arcs.len() < 2 {
        return false;
    }
    let canonical =
        |a: &str| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()) && (a == "0" || !a.starts_with('0'));
    if !arcs.iter().all(|a| canonical(a)) {
        return false;
    }
    match arcs[0] {
        "0" | "1" => arcs[1].len() <= 2 && arcs[1].parse::<u8>().is_ok_and(|n| n < 40),
        "2" => true,
        _ => false,
    }
}

/// A caller's text as a message quotes it: debug-escaped, and cut to 80 characters so that a
/// huge value cannot flood a log.
fn shown(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{:?}... ({} characters)", &s[..i], s.chars().count()),
        None => format!("{s:?}"),
    }
}

fn check_oids(name: &'static str, oids: &[String]) -> Result<(), KnobError> {
    match oids.iter().find(|o| !is_dotted_oid(o)) {
        Some(bad) => Err(KnobError::Invalid {
            name,
            message: format!(
                "entries must be dotted OIDs such as 1.3.6.1.5.5.7.3.4, got {}",
                shown(bad)
            ),
        }),
        None => Ok(()),
    }
}

fn int(n: usize) -> KnobValue {
    KnobValue::Int(n as i128)
}

impl RevocationMode {
    /// The mode's name in [`REVOCATION_MODES`].
    pub fn name(self) -> &'static str {
        match self {
            RevocationMode::Off => REVOCATION_MODES[0],
            RevocationMode::SoftFail => REVOCATION_MODES[1],
            RevocationMode::HardFail => REVOCATION_MODES[2],
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        [RevocationMode::Off, RevocationMode::SoftFail, RevocationMode::HardFail]
            .into_iter()
            .find(|m| m.name() == s)
    }
}

impl RevocationSource {
    /// The source's name in [`REVOCATION_SOURCES`].
    pub fn name(self) -> &'static str {
        match self {
            RevocationSource::Ocsp => REVOCATION_SOURCES[0],
            RevocationSource::Crl => REVOCATION_SOURCES[1],
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        [RevocationSource::Ocsp, RevocationSource::Crl]
            .into_iter()
            .find(|m| m.name() == s)
    }
}

impl Policy {
    /// The value of the knob called `name`.
    pub fn knob(&self, name: &str) -> Result<KnobValue, KnobError> {
        let p = &self.policy_inputs;
        Ok(match name {
            "at" => KnobValue::Time(self.at),
            "legacy" => KnobValue::Bool(self.legacy),
            "max_chain_depth" => int(self.max_chain_depth),
            "min_rsa_bits" => int(self.min_rsa_bits),
            "key_usage" => KnobValue::Names(
                self.signer_key_usage
                    .any_of
                    .iter()
                    .map(|&b| KEY_USAGE_NAMES[b].to_string())
                    .collect(),
            ),
            "extended_key_usage" => KnobValue::OptionalNames(self.extended_key_usage.clone()),
            "max_signature_checks" => int(self.budget.max_signature_checks),
            "max_paths" => int(self.budget.max_paths),
            "user_initial_policy_set" => KnobValue::Names(p.user_initial_policy_set.clone()),
            "initial_explicit_policy" => KnobValue::Bool(p.initial_explicit_policy),
            "initial_policy_mapping_inhibit" => KnobValue::Bool(p.initial_policy_mapping_inhibit),
            "initial_any_policy_inhibit" => KnobValue::Bool(p.initial_any_policy_inhibit),
            "require_acceptable_policy" => KnobValue::Bool(p.require_acceptable_policy),
            "revocation" => KnobValue::Name(self.revocation.name().to_string()),
            "revocation_sources" => {
                KnobValue::Names(self.revocation_sources.iter().map(|s| s.name().to_string()).collect())
            }
            "ocsp_skew" => KnobValue::Int(i128::from(self.ocsp_skew)),
            "anchor_constraints" => KnobValue::Bool(self.anchor_constraints),
            "strict_profile" => KnobValue::Bool(self.strict_profile),
            "legacy_certificates" => KnobValue::Bool(self.legacy_certificates),
            "signature_time" => KnobValue::Name(self.signature_time.name().to_string()),
            "require_timestamp" => KnobValue::Bool(self.require_timestamp),
            "signing_time_tolerance" => KnobValue::Int(i128::from(self.signing_time_tolerance)),
            "tsa_validation" => KnobValue::Name(self.tsa_validation.name().to_string()),
            other => {
                return Err(KnobError::Unknown {
                    name: other.to_string(),
                })
            }
        })
    }

    /// Set the knob called `name`, after checking the value against the knob's kind and
    /// range; on error the policy is unchanged.
    pub fn set_knob(&mut self, name: &str, value: KnobValue) -> Result<(), KnobError> {
        let spec = spec(name).ok_or_else(|| KnobError::Unknown { name: name.to_string() })?;
        let value = spec.check(value)?;
        let p = &mut self.policy_inputs;
        // `check` has matched the value's variant to the knob's kind: the fallbacks below
        // are unreachable for a knob of the table.
        let as_usize = |v: &KnobValue| match v {
            KnobValue::Int(n) => usize::try_from(*n).unwrap_or(0),
            _ => 0,
        };
        let as_bool = |v: &KnobValue| matches!(v, KnobValue::Bool(true));
        let as_names = |v: KnobValue| match v {
            KnobValue::Names(n) | KnobValue::OptionalNames(Some(n)) => n,
            KnobValue::Name(n) => vec![n],
            _ => Vec::new(),
        };
        match name {
            "at" => {
                if let KnobValue::Time(t) = value {
                    self.at = t;
                }
            }
            "legacy" => self.legacy = as_bool(&value),
            "max_chain_depth" => self.max_chain_depth = as_usize(&value),
            "min_rsa_bits" => self.min_rsa_bits = as_usize(&value),
            "key_usage" => {
                let any_of = as_names(value)
                    .iter()
                    .filter_map(|n| KEY_USAGE_NAMES.iter().position(|k| k == n))
                    .collect();
                self.signer_key_usage = KeyUsageRule { any_of };
            }
            "extended_key_usage" => {
                self.extended_key_usage = match value {
                    KnobValue::OptionalNames(v) => v,
                    other => Some(as_names(other)),
                }
            }
            "max_signature_checks" => self.budget.max_signature_checks = as_usize(&value),
            "max_paths" => self.budget.max_paths = as_usize(&value),
            "user_initial_policy_set" => p.user_initial_policy_set = as_names(value),
            "initial_explicit_policy" => p.initial_explicit_policy = as_bool(&value),
            "initial_policy_mapping_inhibit" => p.initial_policy_mapping_inhibit = as_bool(&value),
            "initial_any_policy_inhibit" => p.initial_any_policy_inhibit = as_bool(&value),
            "require_acceptable_policy" => p.require_acceptable_policy = as_bool(&value),
            "revocation" => {
                if let KnobValue::Name(n) = &value {
                    self.revocation = RevocationMode::from_name(n).unwrap_or_default();
                }
            }
            "revocation_sources" => {
                self.revocation_sources = as_names(value)
                    .iter()
                    .filter_map(|n| RevocationSource::from_name(n))
                    .collect()
            }
            "ocsp_skew" => {
                if let KnobValue::Int(n) = value {
                    self.ocsp_skew = i64::try_from(n).unwrap_or(0);
                }
            }
            "anchor_constraints" => self.anchor_constraints = as_bool(&value),
            "strict_profile" => self.strict_profile = as_bool(&value),
            "legacy_certificates" => self.legacy_certificates = as_bool(&value),
            "signature_time" => {
                if let KnobValue::Name(n) = &value {
                    self.signature_time = SignatureTime::from_name(n).unwrap_or_default();
                }
            }
            "require_timestamp" => self.require_timestamp = as_bool(&value),
            "signing_time_tolerance" => {
                if let KnobValue::Int(n) = value {
                    self.signing_time_tolerance = i64::try_from(n).unwrap_or(0);
                }
            }
            "tsa_validation" => {
                if let KnobValue::Name(n) = &value {
                    self.tsa_validation = TsaValidation::from_name(n).unwrap_or_default();
                }
            }
            other => {
                return Err(KnobError::Unknown {
                    name: other.to_string(),
                })
            }
        }
        Ok(())
    }

    /// Every knob with its value, in [`KNOBS`] order.
    pub fn knobs(&self) -> Vec<(&'static str, KnobValue)> {
        KNOBS
            .iter()
            .filter_map(|k| self.knob(k.name).ok().map(|v| (k.name, v)))
            .collect()
    }
}

/// A default policy's knob values, for front ends that show defaults.
pub fn defaults() -> Vec<(&'static str, KnobValue)> {
    Policy::default().knobs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_knob_of_the_table_reads_and_writes_back() {
        let p = Policy::default();
        for k in KNOBS {
            let v = p.knob(k.name).unwrap_or_else(|e| panic!("{}: {e}", k.name));
            let mut q = Policy::default();
            q.set_knob(k.name, v.clone())
                .unwrap_or_else(|e| panic!("{}: {e}", k.name));
            assert_eq!(q.knob(k.name).unwrap(), v, "{}", k.name);
        }
        assert_eq!(p.knobs().len(), KNOBS.len());
    }

    #[test]
    fn setting_a_knob_changes_that_knob_only() {
        let samples: Vec<(&str, KnobValue)> = vec![
            ("at", KnobValue::Time(Some(1_700_000_000))),
            ("legacy", KnobValue::Bool(true)),
            ("max_chain_depth", KnobValue::Int(3)),
            ("min_rsa_bits", KnobValue::Int(1024)),
            ("key_usage", KnobValue::Names(vec!["crl_sign".into()])),
            ("extended_key_usage", KnobValue::Names(vec!["1.3.6.1.5.5.7.3.4".into()])),
            ("max_signature_checks", KnobValue::Int(5)),
            ("max_paths", KnobValue::Int(6)),
            ("user_initial_policy_set", KnobValue::Names(vec!["1.2.3".into()])),
            ("initial_explicit_policy", KnobValue::Bool(true)),
            ("initial_policy_mapping_inhibit", KnobValue::Bool(true)),
            ("initial_any_policy_inhibit", KnobValue::Bool(true)),
            ("require_acceptable_policy", KnobValue::Bool(false)),
            ("revocation", KnobValue::Name("hard-fail".into())),
            ("revocation_sources", KnobValue::Names(vec!["crl".into()])),
            ("ocsp_skew", KnobValue::Int(0)),
            ("anchor_constraints", KnobValue::Bool(false)),
            ("strict_profile", KnobValue::Bool(true)),
            ("legacy_certificates", KnobValue::Bool(true)),
            ("signature_time", KnobValue::Name("timestamp".into())),
            ("require_timestamp", KnobValue::Bool(true)),
            ("signing_time_tolerance", KnobValue::Int(25_200)),
            ("tsa_validation", KnobValue::Name("gen_time".into())),
        ];
        assert_eq!(samples.len(), KNOBS.len(), "a sample for every knob");
        let base = Policy::default();
        for (name, v) in samples {
            let mut p = base.clone();
            p.set_knob(name, v).unwrap();
            for k in KNOBS {
                let changed = p.knob(k.name).unwrap() != base.knob(k.name).unwrap();
                assert_eq!(changed, k.name == name, "setting {name} changed {}", k.name);
            }
        }
    }

    #[test]
    fn invalid_values_name_the_knob_and_leave_the_policy_unchanged() {
        let bad: Vec<(&str, KnobValue)> = vec![
            ("max_chain_depth", KnobValue::Int(65)),
            ("ocsp_skew", KnobValue::Int(1 << 70)),
            ("min_rsa_bits", KnobValue::Int(-1)),
            ("key_usage", KnobValue::Names(vec!["sign_everything".into()])),
            (
                "key_usage",
                KnobValue::Names(vec!["crl_sign".into(), "crl_sign".into()]),
            ),
            ("extended_key_usage", KnobValue::Names(vec![])),
            (
                "extended_key_usage",
                KnobValue::Names(vec!["1.3.6.1.5.5.7.3.04".into()]),
            ),
            ("user_initial_policy_set", KnobValue::Names(vec![])),
            ("user_initial_policy_set", KnobValue::Names(vec!["3.1".into()])),
            ("revocation", KnobValue::Name("strict".into())),
            ("revocation_sources", KnobValue::Names(vec![])),
            (
                "revocation_sources",
                KnobValue::Names(vec!["ocsp".into(), "ocsp".into()]),
            ),
            ("legacy", KnobValue::Int(1)),
            ("at", KnobValue::Bool(true)),
            ("signature_time", KnobValue::Name("now".into())),
            ("signing_time_tolerance", KnobValue::Int(-1)),
            ("tsa_validation", KnobValue::Name("never".into())),
            ("require_timestamp", KnobValue::Name("yes".into())),
        ];
        for (name, v) in bad {
            let mut p = Policy::default();
            let e = p.set_knob(name, v.clone()).expect_err(name);
            assert!(e.to_string().starts_with(name), "{name}: {e}");
            assert_eq!(p, Policy::default(), "{name} {v:?} changed the policy");
        }
        let e = Policy::default().set_knob("legasy", KnobValue::Bool(true)).unwrap_err();
        assert!(
            e.to_string().contains("\"legasy\"") && e.to_string().contains("legacy"),
            "{e}"
        );
    }

    #[test]
    fn refused_text_is_quoted_short() {
        let long = format!("1.{}", "9".repeat(5000));
        let e = Policy::default()
            .set_knob("user_initial_policy_set", KnobValue::Names(vec![long]))
            .unwrap_err()
            .to_string();
        assert!(e.len() < 300 && e.contains("(5002 characters)"), "{e}");
        let e = Policy::default()
            .set_knob("revocation", KnobValue::Name("x".repeat(10_000)))
            .unwrap_err();
        assert!(e.to_string().len() < 300, "{e}");
    }

    #[test]
    fn dotted_oid_syntax() {
        for ok in ["2.5.29.32.0", "1.3.6.1.5.5.7.3.4", "0.39", "2.999.1"] {
            assert!(is_dotted_oid(ok), "{ok}");
        }
        for bad in [
            "",
            "1",
            "1.40",
            "3.1",
            "1.3.6.1.5.5.7.3.04",
            "1..2",
            "1.2.",
            "id-kp-x",
            " 1.2",
            "1.2 ",
        ] {
            assert!(!is_dotted_oid(bad), "{bad:?}");
        }
    }

    #[test]
    fn enumerations_round_trip_their_names() {
        for n in REVOCATION_MODES {
            assert_eq!(RevocationMode::from_name(n).map(|m| m.name()), Some(*n));
        }
        for n in REVOCATION_SOURCES {
            assert_eq!(RevocationSource::from_name(n).map(|m| m.name()), Some(*n));
        }
        assert_eq!(KEY_USAGE_NAMES.len(), 9);
    }
}
