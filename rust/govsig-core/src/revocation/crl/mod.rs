//! Certificate revocation lists (RFC 5280 §5, §6.3).
//!
//! A CRL is parsed once into a [`CrlIndex`]: owned, `Send + Sync`, with an O(1) look-up of
//! (certificate issuer, serial number). A batch shares one index across every document it
//! covers, so a 100,000-entry CRL is never re-scanned per document.
//!
//! What the path validator calls, in RFC 5280 §6.3.3 order:
//! 1. [`CrlIndex::from_der`] — parse; malformed CRLs and CRLs with unknown critical
//!    extensions are refused here (§5.2, §5.3). [`CrlIndex::from_der_as_evidence`] keeps a
//!    CRL whose header parses but which breaks the profile, with [`CrlIndex::defect`]
//!    saying why, so that a result can name the refused evidence.
//! 2. [`CrlIndex::scope_covers`] with [`distribution_points`] of the certificate — (b) issuer
//!    and scope, (d) the reasons this CRL can vouch for.
//! 3. [`CrlIndex::check_freshness`] — thisUpdate/nextUpdate against the validation time.
//! 4. [`CrlIndex::is_signer_candidate`] / [`CrlIndex::check_signer`] — (f) the CRL signer's
//!    name and cRLSign; the signer's own path is the caller's (it may differ from the
//!    certificate's issuer).
//! 5. [`CrlIndex::verify_signature`] — (g) the signature.
//! 6. [`revocation_status`] — (g)-(i) look-up in the delta then the complete CRL, with
//!    removeFromCRL and certificateHold handled; [`CrlIndex::delta_applies_to`] is (c).

mod index;
mod scope;
#[cfg(test)]
mod tests;

pub use index::CrlIndex;
pub use scope::{
    distribution_points, revocation_status, DistributionPoint, DistributionPointName, GeneralNameValue,
    IssuingDistributionPoint,
};

use std::sync::Arc;

use crate::outcome::Code;
use crate::time::UnixTime;
use crate::x509::Name;

/// Why a CRL cannot be used. `reason` names the CRL issuer when it is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlError {
    pub code: Code,
    pub reason: String,
}

impl CrlError {
    pub(crate) fn invalid(reason: String) -> CrlError {
        CrlError {
            code: Code::CrlInvalid,
            reason,
        }
    }
}

impl std::fmt::Display for CrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for CrlError {}

/// Why a CRL does not cover a certificate (RFC 5280 §6.3.3 (b), (c)). Not an error of the
/// CRL: the caller tries the next CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeMismatch(pub String);

impl std::fmt::Display for ScopeMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A serial number as the content octets of its DER INTEGER (two's complement, minimal).
/// Up to 22 octets live inline, which covers every RFC 5280 conforming serial (at most 20
/// octets, §4.1.2.2) with room for a sign octet, so indexing allocates nothing per entry.
#[derive(Clone)]
pub struct SerialKey(SerialRepr);

#[derive(Clone)]
enum SerialRepr {
    Inline { len: u8, bytes: [u8; INLINE_SERIAL] },
    Heap(Box<[u8]>),
}

pub(crate) const INLINE_SERIAL: usize = 22;

impl SerialKey {
    /// From INTEGER content octets. Redundant sign octets are dropped, so a caller's
    /// non-minimal encoding finds the same entry as the DER one.
    pub fn from_integer_bytes(bytes: &[u8]) -> SerialKey {
        let mut b = bytes;
        while let [first, rest @ ..] = b {
            let Some(second) = rest.first() else { break };
            let redundant = (*first == 0x00 && *second < 0x80) || (*first == 0xff && *second >= 0x80);
            if !redundant {
                break;
            }
            b = rest;
        }
        match u8::try_from(b.len()) {
            Ok(len) if b.len() <= INLINE_SERIAL => {
                let mut bytes = [0u8; INLINE_SERIAL];
                for (dst, src) in bytes.iter_mut().zip(b) {
                    *dst = *src;
                }
                SerialKey(SerialRepr::Inline { len, bytes })
            }
            _ => SerialKey(SerialRepr::Heap(b.into())),
        }
    }

    /// From DER INTEGER content octets known to be minimal (checked by the parser), given as
    /// `window`: the serial followed by whatever octets come next in the CRL, at least
    /// [`INLINE_SERIAL`] of them in all. One fixed-size copy builds the key; octets past the
    /// serial's length are never read (`as_bytes` stops at `len`). `None` when the window
    /// is too short or the serial too long: use [`SerialKey::from_integer_bytes`].
    pub(crate) fn from_der_window(window: &[u8], len: usize) -> Option<SerialKey> {
        let bytes: [u8; INLINE_SERIAL] = window.get(..INLINE_SERIAL)?.try_into().ok()?;
        let len8 = u8::try_from(len).ok().filter(|&l| usize::from(l) <= INLINE_SERIAL)?;
        Some(SerialKey(SerialRepr::Inline { len: len8, bytes }))
    }

    /// The minimal two's complement content octets.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            SerialRepr::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or(&[]),
            SerialRepr::Heap(b) => b,
        }
    }

    pub fn is_negative(&self) -> bool {
        self.as_bytes().first().is_some_and(|b| b & 0x80 != 0)
    }

    /// Lowercase hex of the content octets, as certificates' serials are shown.
    pub fn to_hex(&self) -> String {
        hex::encode(self.as_bytes())
    }
}

impl PartialEq for SerialKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for SerialKey {}

impl std::hash::Hash for SerialKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write(self.as_bytes());
    }
}

impl std::fmt::Debug for SerialKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SerialKey({})", self.to_hex())
    }
}

/// `CRLReason` (RFC 5280 §5.3.1). Value 7 is unassigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Reason {
    Unspecified = 0,
    KeyCompromise = 1,
    CaCompromise = 2,
    AffiliationChanged = 3,
    Superseded = 4,
    CessationOfOperation = 5,
    CertificateHold = 6,
    RemoveFromCrl = 8,
    PrivilegeWithdrawn = 9,
    AaCompromise = 10,
}

impl Reason {
    pub fn from_code(code: u32) -> Option<Reason> {
        Some(match code {
            0 => Reason::Unspecified,
            1 => Reason::KeyCompromise,
            2 => Reason::CaCompromise,
            3 => Reason::AffiliationChanged,
            4 => Reason::Superseded,
            5 => Reason::CessationOfOperation,
            6 => Reason::CertificateHold,
            8 => Reason::RemoveFromCrl,
            9 => Reason::PrivilegeWithdrawn,
            10 => Reason::AaCompromise,
            _ => return None,
        })
    }

    /// The stable snake_case name used in results and from Python.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Unspecified => "unspecified",
            Reason::KeyCompromise => "key_compromise",
            Reason::CaCompromise => "ca_compromise",
            Reason::AffiliationChanged => "affiliation_changed",
            Reason::Superseded => "superseded",
            Reason::CessationOfOperation => "cessation_of_operation",
            Reason::CertificateHold => "certificate_hold",
            Reason::RemoveFromCrl => "remove_from_crl",
            Reason::PrivilegeWithdrawn => "privilege_withdrawn",
            Reason::AaCompromise => "aa_compromise",
        }
    }

    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A set of `ReasonFlags` (RFC 5280 §4.2.1.13): bit n set means ReasonFlags bit n
/// (1 keyCompromise ... 8 aACompromise). Bit 0 ("unused") is never set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ReasonMask(pub u16);

impl ReasonMask {
    /// RFC 5280 §6.3.3 "all-reasons": every defined reason.
    pub const ALL: ReasonMask = ReasonMask(0b1_1111_1110);
    pub const NONE: ReasonMask = ReasonMask(0);
    /// ReasonFlags bit 6, certificateHold.
    pub const CERTIFICATE_HOLD: ReasonMask = ReasonMask(1 << 6);

    /// From a DER ReasonFlags BIT STRING; undefined bits are dropped.
    pub fn from_bit_string(bits: &asn1::BitString<'_>) -> ReasonMask {
        let mut m = 0u16;
        for i in 1..=8usize {
            if bits.has_bit_set(i) {
                m |= 1 << i;
            }
        }
        ReasonMask(m)
    }

    pub fn intersect(self, other: ReasonMask) -> ReasonMask {
        ReasonMask(self.0 & other.0)
    }

    pub fn union(self, other: ReasonMask) -> ReasonMask {
        ReasonMask(self.0 | other.0)
    }

    pub fn is_all(self) -> bool {
        self.0 & Self::ALL.0 == Self::ALL.0
    }

    pub fn is_empty(self) -> bool {
        self.0 & Self::ALL.0 == 0
    }

    /// Names of the reasons in the set, in bit order.
    pub fn names(self) -> Vec<&'static str> {
        const NAMES: [&str; 9] = [
            "unused",
            "key_compromise",
            "ca_compromise",
            "affiliation_changed",
            "superseded",
            "cessation_of_operation",
            "certificate_hold",
            "privilege_withdrawn",
            "aa_compromise",
        ];
        NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| *i > 0 && self.0 & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect()
    }
}

/// `holdInstructionCode` (RFC 3280 §5.3.2; dropped from RFC 5280 but still found in CRLs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HoldInstruction {
    /// id-holdinstruction-none (1.2.840.10040.2.1)
    None,
    /// id-holdinstruction-callissuer (1.2.840.10040.2.2)
    CallIssuer,
    /// id-holdinstruction-reject (1.2.840.10040.2.3)
    Reject,
    /// Another instruction (its OID is not kept: RFC 5280 dropped hold instructions and
    /// entries stay small without it).
    Other,
}

impl HoldInstruction {
    /// The dotted OID; `None` for [`HoldInstruction::Other`].
    pub fn dotted(&self) -> Option<&'static str> {
        match self {
            HoldInstruction::None => Some("1.2.840.10040.2.1"),
            HoldInstruction::CallIssuer => Some("1.2.840.10040.2.2"),
            HoldInstruction::Reject => Some("1.2.840.10040.2.3"),
            HoldInstruction::Other => None,
        }
    }
}

/// A CRL number or BaseCRLNumber: a non-negative INTEGER of up to 20 octets (RFC 5280
/// §5.2.3), kept as its big-endian magnitude without leading zeros so numbers compare by
/// value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CrlNumber(Box<[u8]>);

impl CrlNumber {
    /// From INTEGER content octets; `None` when negative.
    pub fn from_integer_bytes(bytes: &[u8]) -> Option<CrlNumber> {
        if bytes.first().is_some_and(|b| b & 0x80 != 0) {
            return None;
        }
        let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        Some(CrlNumber(bytes.get(start..).unwrap_or(&[]).into()))
    }

    /// Big-endian magnitude, no leading zeros (empty for zero).
    pub fn magnitude(&self) -> &[u8] {
        &self.0
    }

    /// The value when it fits in 128 bits.
    pub fn to_u128(&self) -> Option<u128> {
        if self.0.len() > 16 {
            return None;
        }
        Some(self.0.iter().fold(0u128, |acc, &b| (acc << 8) | u128::from(b)))
    }
}

impl Ord for CrlNumber {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.len().cmp(&other.0.len()).then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for CrlNumber {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for CrlNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.to_u128() {
            Some(v) => write!(f, "{v}"),
            None => write!(f, "0x{}", hex::encode(&self.0)),
        }
    }
}

/// One revoked certificate (RFC 5280 §5.1.2.6, entry extensions §5.3).
#[derive(Debug, Clone)]
pub struct RevokedEntry {
    pub serial: SerialKey,
    pub revocation_date: UnixTime,
    /// reasonCode; `None` when absent (RFC 5280 §5.3.1: absent rather than unspecified).
    pub reason: Option<Reason>,
    pub invalidity_date: Option<UnixTime>,
    pub hold_instruction: Option<HoldInstruction>,
    /// The certificate issuer of an indirect CRL entry (RFC 5280 §5.3.3), `None` when the
    /// entry belongs to the CRL issuer. Shared by every entry it applies to.
    pub certificate_issuer: Option<Arc<Name>>,
    /// Index of the set of certificate issuer ids the entry belongs to (0: the CRL issuer).
    pub(crate) group: u32,
}

impl RevokedEntry {
    /// RFC 5280 §6.3.3 (i): removeFromCRL (in a delta CRL) means the certificate is no
    /// longer revoked.
    pub fn is_removal(&self) -> bool {
        self.reason == Some(Reason::RemoveFromCrl)
    }
}
