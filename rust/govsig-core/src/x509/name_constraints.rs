//! Name constraints (RFC 5280 §4.2.1.10), as path validation applies them: the state of
//! §6.1.2 (b)/(c), its update by each CA certificate (§6.1.4 (g)) and the check of each
//! certificate's names against it (§6.1.3 (b)/(c)).
//!
//! Forms evaluated: directoryName, rfc822Name, dNSName, uniformResourceIdentifier and
//! iPAddress. A constraint on any other form (otherName, x400Address, ediPartyName,
//! registeredID) is kept; a certificate that carries a name of that form under it yields
//! [`NcViolation::Unsupported`], which the caller must treat as a failure (RFC 5280
//! §4.2.1.10: an application that cannot process a constraint on a name form present in the
//! certificate must reject it).
//!
//! In §6.1 order, for certificate i of the path (anchor excluded): [`NameConstraintsState::check`]
//! with (b)/(c) semantics, then, when i is a CA certificate (self-issued or not), its
//! nameConstraints extension parsed with [`NameConstraints::from_der`] and passed to
//! [`NameConstraintsState::apply`] (§6.1.4 (g)).

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use govsig_asn1::x509 as asn;

use crate::x509::cert::Certificate;
use crate::x509::name::Name;

const EMAIL_ADDRESS: &str = "1.2.840.113549.1.9.1";
const SUBJECT_ALT_NAME: &str = "2.5.29.17";

/// How many subtrees a violation message lists before summarising the rest.
const LISTED_SUBTREES: usize = 4;

/// The `GeneralName` forms (RFC 5280 §4.2.1.6), in tag order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NameForm {
    OtherName,
    Rfc822Name,
    DnsName,
    X400Address,
    DirectoryName,
    EdiPartyName,
    UniformResourceIdentifier,
    IpAddress,
    RegisteredId,
}

const FORMS: usize = 9;

impl NameForm {
    fn index(self) -> usize {
        match self {
            NameForm::OtherName => 0,
            NameForm::Rfc822Name => 1,
            NameForm::DnsName => 2,
            NameForm::X400Address => 3,
            NameForm::DirectoryName => 4,
            NameForm::EdiPartyName => 5,
            NameForm::UniformResourceIdentifier => 6,
            NameForm::IpAddress => 7,
            NameForm::RegisteredId => 8,
        }
    }

    /// The ASN.1 field name, as RFC 5280 spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            NameForm::OtherName => "otherName",
            NameForm::Rfc822Name => "rfc822Name",
            NameForm::DnsName => "dNSName",
            NameForm::X400Address => "x400Address",
            NameForm::DirectoryName => "directoryName",
            NameForm::EdiPartyName => "ediPartyName",
            NameForm::UniformResourceIdentifier => "uniformResourceIdentifier",
            NameForm::IpAddress => "iPAddress",
            NameForm::RegisteredId => "registeredID",
        }
    }

    fn of(gn: &asn::GeneralName<'_>) -> NameForm {
        match gn {
            asn::GeneralName::OtherName(_) => NameForm::OtherName,
            asn::GeneralName::Rfc822Name(_) => NameForm::Rfc822Name,
            asn::GeneralName::DnsName(_) => NameForm::DnsName,
            asn::GeneralName::X400Address(_) => NameForm::X400Address,
            asn::GeneralName::DirectoryName(_) => NameForm::DirectoryName,
            asn::GeneralName::EdiPartyName(_) => NameForm::EdiPartyName,
            asn::GeneralName::UniformResourceIdentifier(_) => NameForm::UniformResourceIdentifier,
            asn::GeneralName::IpAddress(_) => NameForm::IpAddress,
            asn::GeneralName::RegisteredId(_) => NameForm::RegisteredId,
        }
    }
}

impl std::fmt::Display for NameForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One subtree's base (RFC 5280 §4.2.1.10), normalised for comparison: host parts are
/// ASCII-lowercased (DNS is case-insensitive, RFC 4343) and a trailing root dot removed, so
/// "EVIL.example." cannot slip past an excluded "evil.example".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subtree {
    Directory(Name),
    /// `local` is the mailbox's local part when the constraint names one mailbox.
    Rfc822 {
        local: Option<String>,
        host: String,
    },
    Dns(String),
    Uri(String),
    /// IPv4 (4 + 4 bytes) or IPv6 (16 + 16 bytes); the mask is contiguous.
    Ip {
        addr: Vec<u8>,
        mask: Vec<u8>,
    },
    /// A form govsig does not evaluate.
    Other(NameForm),
}

impl Subtree {
    pub fn form(&self) -> NameForm {
        match self {
            Subtree::Directory(_) => NameForm::DirectoryName,
            Subtree::Rfc822 { .. } => NameForm::Rfc822Name,
            Subtree::Dns(_) => NameForm::DnsName,
            Subtree::Uri(_) => NameForm::UniformResourceIdentifier,
            Subtree::Ip { .. } => NameForm::IpAddress,
            Subtree::Other(f) => *f,
        }
    }

    fn from_general_name(gn: &asn::GeneralName<'_>) -> Result<Subtree, NcError> {
        Ok(match gn {
            asn::GeneralName::DirectoryName(tlv) => Subtree::Directory(
                Name::from_der(tlv.full_data()).map_err(|e| NcError(format!("directoryName subtree: {}", e.0)))?,
            ),
            asn::GeneralName::Rfc822Name(s) => {
                let s = s.as_str();
                check_rfc822_subtree(s).map_err(NcError)?;
                match s.rsplit_once('@') {
                    Some((local, host)) => Subtree::Rfc822 {
                        local: Some(local.to_owned()),
                        host: normalise_host(host),
                    },
                    None => Subtree::Rfc822 {
                        local: None,
                        host: normalise_host(s),
                    },
                }
            }
            asn::GeneralName::DnsName(s) => {
                // RFC 5280 §4.2.1.10: a dNSName constraint is a domain name ("host.example.com"
                // or "example.com" for its subdomains); wildcards and a leading period are not
                // of that syntax, and are refused rather than guessed at.
                check_domain(s.as_str(), DomainUse::DnsConstraint)
                    .map_err(|why| NcError(format!("dNSName subtree {:?}: {why}", s.as_str())))?;
                Subtree::Dns(normalise_host(s.as_str()))
            }
            asn::GeneralName::UniformResourceIdentifier(s) => {
                // A host, or ".domain" for the hosts within it (RFC 5280 §4.2.1.10).
                check_domain(s.as_str(), DomainUse::DottedConstraint)
                    .map_err(|why| NcError(format!("uniformResourceIdentifier subtree {:?}: {why}", s.as_str())))?;
                Subtree::Uri(normalise_host(s.as_str()))
            }
            asn::GeneralName::IpAddress(b) => {
                let half = match b.len() {
                    8 => 4,
                    32 => 16,
                    n => {
                        return Err(NcError(format!(
                            "iPAddress subtree has {n} octets; RFC 5280 §4.2.1.10 requires 8 (IPv4 address and mask) or 32 (IPv6)"
                        )))
                    }
                };
                let (addr, mask) = b.split_at(half);
                if !is_contiguous_mask(mask) {
                    return Err(NcError(format!(
                        "iPAddress subtree mask {} is not a CIDR prefix (RFC 5280 §4.2.1.10, RFC 4632)",
                        hex::encode(mask)
                    )));
                }
                Subtree::Ip {
                    addr: addr.to_vec(),
                    mask: mask.to_vec(),
                }
            }
            other => Subtree::Other(NameForm::of(other)),
        })
    }
}

impl std::fmt::Display for Subtree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subtree::Directory(n) => write!(f, "directoryName \"{n}\""),
            Subtree::Rfc822 { local: Some(l), host } => write!(f, "rfc822Name \"{l}@{host}\""),
            Subtree::Rfc822 { local: None, host } => write!(f, "rfc822Name \"{host}\""),
            Subtree::Dns(d) => write!(f, "dNSName \"{d}\""),
            Subtree::Uri(u) => write!(f, "uniformResourceIdentifier \"{u}\""),
            Subtree::Ip { addr, mask } => {
                let prefix: u32 = mask.iter().map(|b| b.count_ones()).sum();
                write!(f, "iPAddress {}/{prefix}", ip_text(addr))
            }
            Subtree::Other(form) => write!(f, "{form} subtree"),
        }
    }
}

/// Where a domain name appears, which decides what it may hold.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum DomainUse {
    /// A dNSName in subjectAltName: LDH labels, a wildcard only as the whole leftmost label.
    SanDns,
    /// A dNSName constraint: LDH labels only.
    DnsConstraint,
    /// The host of an rfc822Name or URI constraint: LDH labels, a leading period allowed.
    DottedConstraint,
}

/// Whether `s` is a domain name of preferred syntax (RFC 1034 §3.5, RFC 5280 §4.2.1.6) for
/// `usage`: labels of 1 to 63 letters, digits, hyphens (and underscores, which real
/// certificates carry), at most 253 octets, one trailing period tolerated. Spaces, tabs, NUL
/// and other control characters are never part of a name; a name that holds them could be
/// read differently by the next program, so it is refused, not trimmed.
pub fn check_domain(s: &str, usage: DomainUse) -> Result<(), String> {
    if let Some(c) = s.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!("it holds the character {:?}", c));
    }
    // An empty constraint covers every name of its form (constrained CAs exclude "" to
    // forbid all DNS names).
    if s.is_empty() && usage != DomainUse::SanDns {
        return Ok(());
    }
    let mut body = s.strip_suffix('.').unwrap_or(s);
    if usage == DomainUse::DottedConstraint {
        body = body.strip_prefix('.').unwrap_or(body);
    }
    if body.is_empty() {
        return Err("it is empty".into());
    }
    if body.len() > 253 {
        return Err(format!("it is {} octets long, over 253", body.len()));
    }
    for (i, label) in body.split('.').enumerate() {
        if label == "*" && i == 0 && usage == DomainUse::SanDns && body.contains('.') {
            continue;
        }
        if label.is_empty() {
            return Err("it has an empty label (a leading, doubled or misplaced period)".into());
        }
        if label.len() > 63 {
            return Err(format!("label {label:?} is over 63 octets"));
        }
        if label.contains('*') {
            return Err(match usage {
                DomainUse::SanDns => format!("wildcard in {label:?}: only a whole leftmost \"*\" label is a wildcard"),
                _ => format!("wildcard in {label:?}: constraints name domains, not patterns"),
            });
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(format!(
                "label {label:?} holds {c:?}, which is not a letter, digit or hyphen"
            ));
        }
    }
    Ok(())
}

/// Whether `s` is a mailbox as rfc822Name requires (RFC 5280 §4.2.1.6: local-part@domain,
/// no display name, no comments): a non-empty local part without spaces or control
/// characters, and a domain name.
pub fn check_mailbox(s: &str) -> Result<(), String> {
    let (local, host) = s.rsplit_once('@').ok_or("it has no '@'")?;
    if local.is_empty() {
        return Err("its local part is empty".into());
    }
    if let Some(c) = local.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!("its local part holds the character {c:?}"));
    }
    check_domain(host, DomainUse::DnsConstraint).map_err(|why| format!("its domain: {why}"))
}

/// An rfc822Name constraint: a mailbox, a host, or ".domain" (RFC 5280 §4.2.1.10).
fn check_rfc822_subtree(s: &str) -> Result<(), String> {
    let why = if s.contains('@') {
        check_mailbox(s)
    } else {
        check_domain(s, DomainUse::DottedConstraint)
    };
    why.map_err(|w| format!("rfc822Name subtree {s:?}: {w}"))
}

fn normalise_host(s: &str) -> String {
    let s = s.strip_suffix('.').unwrap_or(s);
    s.to_ascii_lowercase()
}

fn is_contiguous_mask(mask: &[u8]) -> bool {
    let mut seen_zero = false;
    for byte in mask {
        for bit in (0..8).rev() {
            let set = byte & (1 << bit) != 0;
            if set && seen_zero {
                return false;
            }
            seen_zero |= !set;
        }
    }
    true
}

fn ip_text(bytes: &[u8]) -> String {
    if let Ok(a) = <[u8; 4]>::try_from(bytes) {
        Ipv4Addr::from(a).to_string()
    } else if let Ok(a) = <[u8; 16]>::try_from(bytes) {
        Ipv6Addr::from(a).to_string()
    } else {
        format!("0x{}", hex::encode(bytes))
    }
}

/// Why a nameConstraints extension value could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NcError(pub String);

impl std::fmt::Display for NcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NcError {}

/// A certificate's names fall outside the constraints, or cannot be judged against them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NcViolation {
    /// `name` (as text, with its form) is outside a permitted subtree or inside an excluded one.
    Violated { name: String, constraint: String },
    /// A constraint on a name form govsig does not evaluate applies to a name the certificate has.
    Unsupported(String),
    /// A name of the certificate cannot be read in a form a constraint applies to.
    Malformed(String),
    /// The comparison budget ran out (a certificate with many names under many constraints).
    Budget,
}

impl std::fmt::Display for NcViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NcViolation::Violated { name, constraint } => write!(f, "{name} violates name constraints: {constraint}"),
            NcViolation::Unsupported(m) | NcViolation::Malformed(m) => f.write_str(m),
            NcViolation::Budget => f.write_str("name constraint checks exceeded their budget"),
        }
    }
}

impl std::error::Error for NcViolation {}

/// Subtrees grouped by name form, so a check only looks at subtrees of the name's form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ByForm {
    lists: [Vec<Subtree>; FORMS],
}

impl ByForm {
    fn from_subtrees(subtrees: &[Subtree]) -> ByForm {
        let mut b = ByForm::default();
        b.extend(subtrees);
        b
    }

    fn extend(&mut self, subtrees: &[Subtree]) {
        for s in subtrees {
            if let Some(list) = self.lists.get_mut(s.form().index()) {
                list.push(s.clone());
            }
        }
    }

    fn get(&self, form: NameForm) -> &[Subtree] {
        self.lists.get(form.index()).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// A parsed nameConstraints extension (RFC 5280 §4.2.1.10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameConstraints {
    permitted: Option<Vec<Subtree>>,
    excluded: Vec<Subtree>,
}

impl NameConstraints {
    /// Parses the extension value (the OCTET STRING content).
    pub fn from_der(extn_value: &[u8]) -> Result<NameConstraints, NcError> {
        let nc = asn1::parse_single::<asn::NameConstraints<'_>>(extn_value).map_err(|e| {
            NcError(format!(
                "nameConstraints is not a DER NameConstraints: {}",
                govsig_asn1::common::explain(&e)
            ))
        })?;
        if nc.permitted_subtrees.is_none() && nc.excluded_subtrees.is_none() {
            return Err(NcError(
                "nameConstraints has neither permittedSubtrees nor excludedSubtrees (RFC 5280 §4.2.1.10)".into(),
            ));
        }
        let permitted = match nc.permitted_subtrees {
            Some(s) => Some(subtrees(s, "permittedSubtrees")?),
            None => None,
        };
        let excluded = match nc.excluded_subtrees {
            Some(s) => subtrees(s, "excludedSubtrees")?,
            None => Vec::new(),
        };
        Ok(NameConstraints { permitted, excluded })
    }

    /// `None` when the extension has no permittedSubtrees (which then constrains nothing).
    pub fn permitted(&self) -> Option<&[Subtree]> {
        self.permitted.as_deref()
    }

    pub fn excluded(&self) -> &[Subtree] {
        &self.excluded
    }
}

fn subtrees(seq: asn::GeneralSubtrees<'_>, field: &str) -> Result<Vec<Subtree>, NcError> {
    let mut out = Vec::new();
    for st in seq {
        match st.minimum {
            None => {}
            // DER omits a value equal to its DEFAULT (X.690 §11.5).
            Some(0) => {
                return Err(NcError(format!(
                    "{field}: minimum is encoded although it equals its DEFAULT 0 (not DER)"
                )))
            }
            Some(m) => {
                return Err(NcError(format!(
                    "{field}: minimum is {m}; RFC 5280 §4.2.1.10 requires 0"
                )));
            }
        }
        if let Some(m) = st.maximum {
            return Err(NcError(format!(
                "{field}: maximum is present ({m}); RFC 5280 §4.2.1.10 requires it absent"
            )));
        }
        out.push(Subtree::from_general_name(&st.base).map_err(|e| NcError(format!("{field}: {}", e.0)))?);
    }
    if out.is_empty() {
        return Err(NcError(format!(
            "{field} is empty; GeneralSubtrees is SIZE (1..MAX) (RFC 5280 §4.2.1.10)"
        )));
    }
    Ok(out)
}

/// `permitted_subtrees` and `excluded_subtrees` of RFC 5280 §6.1.2 (b)/(c).
///
/// The intersection of §6.1.4 (g) is kept as the list of each CA's permittedSubtrees: a name
/// is within the intersection exactly when, for every CA that constrained its form, it is
/// within one of that CA's subtrees of the form. This is the same set as a computed
/// intersection, without having to intersect subtrees of each form symbolically. A form no
/// CA constrained stays unbounded, as the initial state says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameConstraintsState {
    permitted: Vec<ByForm>,
    excluded: ByForm,
}

/// A name of a certificate, by form.
enum CertName<'a> {
    Directory(Cow<'a, Name>),
    Rfc822(&'a str),
    Dns(&'a str),
    Uri(&'a str),
    Ip(&'a [u8]),
    Other(NameForm),
}

impl CertName<'_> {
    fn form(&self) -> NameForm {
        match self {
            CertName::Directory(_) => NameForm::DirectoryName,
            CertName::Rfc822(_) => NameForm::Rfc822Name,
            CertName::Dns(_) => NameForm::DnsName,
            CertName::Uri(_) => NameForm::UniformResourceIdentifier,
            CertName::Ip(_) => NameForm::IpAddress,
            CertName::Other(f) => *f,
        }
    }

    fn from_general_name<'a>(gn: &asn::GeneralName<'a>) -> Result<CertName<'a>, NcViolation> {
        Ok(match gn {
            asn::GeneralName::DirectoryName(tlv) => {
                CertName::Directory(Cow::Owned(Name::from_der(tlv.full_data()).map_err(|e| {
                    NcViolation::Malformed(format!("subjectAltName directoryName: {}", e.0))
                })?))
            }
            asn::GeneralName::Rfc822Name(s) => CertName::Rfc822(s.as_str()),
            asn::GeneralName::DnsName(s) => CertName::Dns(s.as_str()),
            asn::GeneralName::UniformResourceIdentifier(s) => CertName::Uri(s.as_str()),
            asn::GeneralName::IpAddress(b) => CertName::Ip(b),
            other => CertName::Other(NameForm::of(other)),
        })
    }
}

impl std::fmt::Display for CertName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertName::Directory(n) => write!(f, "directoryName \"{n}\""),
            CertName::Rfc822(s) => write!(f, "rfc822Name \"{s}\""),
            CertName::Dns(s) => write!(f, "dNSName \"{s}\""),
            CertName::Uri(s) => write!(f, "uniformResourceIdentifier \"{s}\""),
            CertName::Ip(b) => write!(f, "iPAddress {}", ip_text(b)),
            CertName::Other(form) => write!(f, "{form} name"),
        }
    }
}

/// A certificate name reduced to what the constraints of its form compare.
enum Prepared<'a> {
    Directory(&'a Name),
    Mailbox { local: &'a str, host: String },
    Dns(String),
    UriHost(String),
    Ip(&'a [u8]),
}

fn spend(budget: &mut usize) -> Result<(), NcViolation> {
    if *budget == 0 {
        return Err(NcViolation::Budget);
    }
    *budget -= 1;
    Ok(())
}

impl NameConstraintsState {
    /// §6.1.2 (b)/(c): every form unbounded, nothing excluded.
    pub fn new() -> NameConstraintsState {
        NameConstraintsState::default()
    }

    /// §6.1.4 (g): narrow the permitted subtrees to their intersection with the
    /// certificate's permittedSubtrees (form by form) and add its excludedSubtrees.
    pub fn apply(&mut self, nc: &NameConstraints) {
        if let Some(p) = &nc.permitted {
            self.permitted.push(ByForm::from_subtrees(p));
        }
        self.excluded.extend(&nc.excluded);
    }

    /// True while no certificate has constrained anything.
    pub fn is_unconstrained(&self) -> bool {
        self.permitted.is_empty() && self.excluded.lists.iter().all(Vec::is_empty)
    }

    fn constrains(&self, form: NameForm) -> bool {
        !self.excluded.get(form).is_empty() || self.permitted.iter().any(|p| !p.get(form).is_empty())
    }

    /// §6.1.3 (b)/(c): the subject DN (when not empty), each emailAddress attribute of the
    /// subject DN as an rfc822Name, and every subjectAltName entry must be within the
    /// permitted subtrees of their form and outside the excluded ones. Skipped for a
    /// self-issued certificate that is not the last of the path.
    ///
    /// RFC 5280 §4.2.1.10 requires the emailAddress check when there is no subjectAltName;
    /// govsig applies it always (as OpenSSL does), because a mail address in the DN is shown
    /// to users whether or not the certificate also has alternative names.
    ///
    /// Each comparison of a name with a subtree costs one unit of `budget`.
    pub fn check(&self, cert: &Certificate, is_leaf: bool, budget: &mut usize) -> Result<(), NcViolation> {
        if !is_leaf && cert.is_self_issued() {
            return Ok(());
        }
        if self.is_unconstrained() {
            return Ok(());
        }
        if !cert.subject.is_empty() {
            self.check_name(&CertName::Directory(Cow::Borrowed(&cert.subject)), budget)?;
        }
        for atv in cert.subject.rdns().iter().flatten().filter(|a| a.oid == EMAIL_ADDRESS) {
            match &atv.text {
                Some(mail) => self.check_name(&CertName::Rfc822(mail), budget)?,
                None if self.constrains(NameForm::Rfc822Name) => {
                    return Err(NcViolation::Malformed(
                        "the subject's emailAddress attribute is not a string, and rfc822Name constraints apply".into(),
                    ))
                }
                None => {}
            }
        }
        if let Some(ext) = cert.extension(SUBJECT_ALT_NAME) {
            let san = asn1::parse_single::<asn1::SequenceOf<'_, asn::GeneralName<'_>>>(&ext.value).map_err(|e| {
                NcViolation::Malformed(format!(
                    "subjectAltName is not DER: {}",
                    govsig_asn1::common::explain(&e)
                ))
            })?;
            for gn in san {
                self.check_name(&CertName::from_general_name(&gn)?, budget)?;
            }
        }
        Ok(())
    }

    fn check_name(&self, name: &CertName<'_>, budget: &mut usize) -> Result<(), NcViolation> {
        let form = name.form();
        if !self.constrains(form) {
            return Ok(());
        }
        let prepared = match prepare(name)? {
            Some(p) => p,
            None => {
                return Err(NcViolation::Unsupported(format!(
                    "the certificate has a {form} name and the path constrains {form} names, which govsig does not \
                     evaluate (RFC 5280 §4.2.1.10 requires rejecting the certificate)"
                )))
            }
        };
        for level in &self.permitted {
            let subtrees = level.get(form);
            if subtrees.is_empty() {
                continue;
            }
            let mut within = false;
            for s in subtrees {
                spend(budget)?;
                if is_within(&prepared, s, false) {
                    within = true;
                    break;
                }
            }
            if !within {
                return Err(NcViolation::Violated {
                    name: name.to_string(),
                    constraint: format!("not within any permitted subtree ({})", list(subtrees)),
                });
            }
        }
        for s in self.excluded.get(form) {
            spend(budget)?;
            if is_within(&prepared, s, true) {
                return Err(NcViolation::Violated {
                    name: name.to_string(),
                    constraint: format!("within excluded {s}"),
                });
            }
        }
        Ok(())
    }
}

fn list(subtrees: &[Subtree]) -> String {
    let mut parts: Vec<String> = subtrees.iter().take(LISTED_SUBTREES).map(ToString::to_string).collect();
    if subtrees.len() > LISTED_SUBTREES {
        parts.push(format!("and {} more", subtrees.len() - LISTED_SUBTREES));
    }
    parts.join(", ")
}

/// `Ok(None)` for forms govsig does not evaluate.
fn prepare<'a>(name: &'a CertName<'a>) -> Result<Option<Prepared<'a>>, NcViolation> {
    Ok(Some(match name {
        CertName::Directory(n) => Prepared::Directory(n.as_ref()),
        CertName::Rfc822(s) => match s.rsplit_once('@') {
            Some((local, host)) if check_mailbox(s).is_ok() => Prepared::Mailbox {
                local,
                host: normalise_host(host),
            },
            _ => {
                return Err(NcViolation::Malformed(format!(
                    "rfc822Name \"{s}\" is not a mailbox (local-part@domain, RFC 5280 §4.2.1.6)"
                )))
            }
        },
        CertName::Dns(s) => {
            check_domain(s, DomainUse::SanDns).map_err(|why| {
                NcViolation::Malformed(format!("dNSName \"{}\" is not a domain name: {why}", s.escape_debug()))
            })?;
            Prepared::Dns(normalise_host(s))
        }
        CertName::Uri(s) => match uri_host(s) {
            Some(h) => Prepared::UriHost(h),
            // RFC 5280 §4.2.1.10: a URI without an authority holding a fully qualified
            // domain name (no authority, or an IP literal) must be rejected when URI
            // constraints apply.
            None => {
                return Err(NcViolation::Violated {
                    name: name.to_string(),
                    constraint: "uniformResourceIdentifier constraints apply and the URI has no host name \
                                 (RFC 5280 §4.2.1.10)"
                        .into(),
                })
            }
        },
        CertName::Ip(b) => {
            if b.len() != 4 && b.len() != 16 {
                return Err(NcViolation::Malformed(format!(
                    "iPAddress name has {} octets; RFC 5280 §4.2.1.6 requires 4 or 16",
                    b.len()
                )));
            }
            Prepared::Ip(b)
        }
        CertName::Other(_) => return Ok(None),
    }))
}

/// The host of a URI's authority (RFC 3986 §3.2.2), when it is a domain name.
fn uri_host(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once(':')?;
    let mut sc = scheme.chars();
    if !sc.next().is_some_and(|c| c.is_ascii_alphabetic())
        || !sc.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    let rest = rest.strip_prefix("//")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        Some(_) => return None,
        None => host_port,
    };
    let host = normalise_host(host);
    // Only a plain domain name can be compared; percent-encoded or IP-literal hosts would
    // let a name dodge an excluded subtree by spelling.
    let plain = !host.is_empty()
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')));
    if !plain || host.parse::<Ipv4Addr>().is_ok() {
        return None;
    }
    Some(host)
}

/// `name` is a strict subdomain of `domain` (both normalised).
fn is_strict_subdomain(name: &str, domain: &str) -> bool {
    name.strip_suffix(domain)
        .is_some_and(|p| p.len() > 1 && p.ends_with('.'))
}

/// RFC 5280 §4.2.1.10 dNSName: any name formed by adding zero or more labels on the left.
/// A constraint with a leading '.' (common in practice, not in RFC 5280) means strict
/// subdomains only; an empty constraint covers every name.
fn dns_within(name: &str, constraint: &str) -> bool {
    if constraint.is_empty() {
        return true;
    }
    match constraint.strip_prefix('.') {
        Some(domain) => is_strict_subdomain(name, domain),
        None => name == constraint || is_strict_subdomain(name, constraint),
    }
}

/// A wildcard name "*.B" (or "x*.B") stands for single labels under B; for an excluded
/// subtree "L.B" it overlaps names the certificate would be accepted for, so it counts as
/// within it (a wildcard certificate must not cover an excluded host).
fn wildcard_overlaps(name: &str, constraint: &str) -> bool {
    let Some((first, base)) = name.split_once('.') else {
        return false;
    };
    if !first.contains('*') || constraint.starts_with('.') {
        return false;
    }
    constraint
        .strip_suffix(base)
        .and_then(|p| p.strip_suffix('.'))
        .is_some_and(|label| !label.is_empty() && !label.contains('.'))
}

fn is_within(name: &Prepared<'_>, subtree: &Subtree, excluded: bool) -> bool {
    match (name, subtree) {
        (Prepared::Directory(n), Subtree::Directory(base)) => n.is_within_subtree(base),
        (
            Prepared::Mailbox { local, host },
            Subtree::Rfc822 {
                local: c_local,
                host: c_host,
            },
        ) => match c_local {
            // §4.2.1.10: a complete address names one mailbox; local parts are case-sensitive (§7.5).
            Some(c_local) => local == c_local && host == c_host,
            None if c_host.is_empty() => true,
            // ".example.com": every host in the domain, not the host example.com itself.
            None => match c_host.strip_prefix('.') {
                Some(domain) => is_strict_subdomain(host, domain),
                None => host == c_host,
            },
        },
        (Prepared::Dns(n), Subtree::Dns(c)) => dns_within(n, c) || (excluded && wildcard_overlaps(n, c)),
        // §4.2.1.10: for URIs a constraint without a leading '.' names one host.
        (Prepared::UriHost(h), Subtree::Uri(c)) => {
            if c.is_empty() {
                true
            } else {
                match c.strip_prefix('.') {
                    Some(domain) => is_strict_subdomain(h, domain),
                    None => h == c,
                }
            }
        }
        (Prepared::Ip(ip), Subtree::Ip { addr, mask }) => {
            ip.len() == addr.len() && ip.iter().zip(addr).zip(mask).all(|((i, a), m)| i & m == a & m)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::der::tlv;

    fn nc(permitted: &[Vec<u8>], excluded: &[Vec<u8>]) -> Vec<u8> {
        let mut body = Vec::new();
        if !permitted.is_empty() {
            body.extend(tlv(0xa0, &permitted.concat()));
        }
        if !excluded.is_empty() {
            body.extend(tlv(0xa1, &excluded.concat()));
        }
        tlv(0x30, &body)
    }

    fn subtree(general_name: Vec<u8>) -> Vec<u8> {
        tlv(0x30, &general_name)
    }

    fn dns(s: &str) -> Vec<u8> {
        tlv(0x82, s.as_bytes())
    }

    fn parse_one(general_name: Vec<u8>) -> Subtree {
        let der = nc(&[subtree(general_name)], &[]);
        let parsed = NameConstraints::from_der(&der).expect("valid nameConstraints");
        parsed
            .permitted()
            .and_then(|p| p.first())
            .cloned()
            .expect("one subtree")
    }

    fn within(name: &CertName<'_>, st: &Subtree, excluded: bool) -> bool {
        let p = prepare(name).expect("preparable").expect("evaluated form");
        is_within(&p, st, excluded)
    }

    #[test]
    fn dns_is_label_wise_suffix() {
        let c = parse_one(dns("Example.COM"));
        assert!(within(&CertName::Dns("example.com"), &c, false));
        assert!(within(&CertName::Dns("x.EXAMPLE.com"), &c, false));
        assert!(within(&CertName::Dns("a.b.example.com."), &c, false));
        assert!(!within(&CertName::Dns("badexample.com"), &c, false));
        assert!(!within(&CertName::Dns("example.com.evil"), &c, false));
        // A leading period is rfc822Name and URI constraint syntax, not dNSName's (RFC 5280
        // §4.2.1.10): refused rather than guessed at; so are wildcards and control characters.
        for bad in [".example.com", "*.example.com", "exa mple.com", "example.com\0", "a..b"] {
            let der = nc(&[subtree(dns(bad))], &[]);
            let e = NameConstraints::from_der(&der).expect_err(bad);
            assert!(e.0.contains("dNSName subtree"), "{bad:?}: {}", e.0);
        }
        // The empty constraint covers every name (used to exclude all DNS names).
        let all = parse_one(dns(""));
        assert!(within(&CertName::Dns("anything.test"), &all, false));
    }

    #[test]
    fn wildcard_cannot_cover_an_excluded_host() {
        let c = parse_one(dns("secret.example.com"));
        assert!(within(&CertName::Dns("*.example.com"), &c, true));
        assert!(!within(&CertName::Dns("*.example.com"), &c, false));
        assert!(!within(&CertName::Dns("*.other.com"), &c, true));
        // Deeper excluded hosts are beyond a single-label wildcard.
        let deep = parse_one(dns("a.secret.example.com"));
        assert!(!within(&CertName::Dns("*.example.com"), &deep, true));
    }

    #[test]
    fn rfc822_mailbox_host_and_domain() {
        let mailbox = parse_one(tlv(0x81, b"Root@Example.com"));
        assert!(within(&CertName::Rfc822("Root@example.COM"), &mailbox, false));
        assert!(
            !within(&CertName::Rfc822("root@example.com"), &mailbox, false),
            "local part is case-sensitive"
        );
        let host = parse_one(tlv(0x81, b"example.com"));
        assert!(within(&CertName::Rfc822("anyone@EXAMPLE.com"), &host, false));
        assert!(!within(&CertName::Rfc822("anyone@x.example.com"), &host, false));
        let domain = parse_one(tlv(0x81, b".example.com"));
        assert!(within(&CertName::Rfc822("anyone@x.example.com"), &domain, false));
        assert!(!within(&CertName::Rfc822("anyone@example.com"), &domain, false));
        assert!(!within(&CertName::Rfc822("anyone@badexample.com"), &domain, false));
        assert!(matches!(
            prepare(&CertName::Rfc822("no-at-sign")),
            Err(NcViolation::Malformed(_))
        ));
    }

    #[test]
    fn uri_constrains_the_host() {
        let host = parse_one(tlv(0x86, b"host.example.com"));
        assert!(within(
            &CertName::Uri("https://user@HOST.example.com:8443/p?q#f"),
            &host,
            false
        ));
        assert!(!within(&CertName::Uri("https://x.host.example.com/"), &host, false));
        let domain = parse_one(tlv(0x86, b".example.com"));
        assert!(within(&CertName::Uri("http://a.b.example.com"), &domain, false));
        assert!(!within(&CertName::Uri("http://example.com/"), &domain, false));
        for no_host in [
            "urn:isbn:123",
            "mailto:a@example.com",
            "http://10.0.0.1/",
            "http://[::1]/",
            "http://ex%61mple.com/",
        ] {
            assert!(
                matches!(prepare(&CertName::Uri(no_host)), Err(NcViolation::Violated { .. })),
                "{no_host} must be refused under URI constraints"
            );
        }
    }

    #[test]
    fn ip_masked_compare_and_bad_lengths() {
        let v4 = parse_one(tlv(0x87, &[10, 1, 0, 0, 255, 255, 0, 0]));
        assert_eq!(v4.to_string(), "iPAddress 10.1.0.0/16");
        assert!(within(&CertName::Ip(&[10, 1, 200, 3]), &v4, false));
        assert!(!within(&CertName::Ip(&[10, 2, 0, 1]), &v4, false));
        let mut v6 = vec![0x20, 0x01, 0x0d, 0xb8];
        v6.extend([0u8; 12]);
        v6.extend([0xff; 4]);
        v6.extend([0u8; 12]);
        let v6 = parse_one(tlv(0x87, &v6));
        let mut in6 = [0u8; 16];
        in6[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        in6[15] = 1;
        assert!(within(&CertName::Ip(&in6), &v6, false));
        assert!(
            !within(&CertName::Ip(&[32, 1, 13, 184]), &v6, false),
            "IPv4 is not within an IPv6 subtree"
        );
        let bad = nc(&[subtree(tlv(0x87, &[10, 0, 0, 0, 255]))], &[]);
        assert!(NameConstraints::from_der(&bad).unwrap_err().0.contains("8 (IPv4"));
        let holes = nc(&[subtree(tlv(0x87, &[10, 0, 0, 0, 255, 0, 255, 0]))], &[]);
        assert!(NameConstraints::from_der(&holes).unwrap_err().0.contains("CIDR"));
        assert!(matches!(
            prepare(&CertName::Ip(&[1, 2, 3])),
            Err(NcViolation::Malformed(_))
        ));
    }

    fn dn(cn: &str) -> Name {
        // Name: SEQUENCE { SET { SEQUENCE { C=US } } [, SET { SEQUENCE { CN=cn } }] }
        let c = tlv(0x31, &tlv(0x30, &[tlv(0x06, &[0x55, 4, 6]), tlv(0x13, b"US")].concat()));
        let mut rdns = c;
        if !cn.is_empty() {
            rdns.extend(tlv(
                0x31,
                &tlv(0x30, &[tlv(0x06, &[0x55, 4, 3]), tlv(0x0c, cn.as_bytes())].concat()),
            ));
        }
        Name::from_der(&tlv(0x30, &rdns)).expect("test name")
    }

    #[test]
    fn directory_name_is_rdn_prefix() {
        let base = Subtree::Directory(dn(""));
        assert!(within(&CertName::Directory(Cow::Owned(dn("Alice"))), &base, false));
        let alice = Subtree::Directory(dn("alice"));
        assert!(within(&CertName::Directory(Cow::Owned(dn("ALICE "))), &alice, false));
        assert!(!within(&CertName::Directory(Cow::Owned(dn("Alice2"))), &alice, false));
        assert!(!within(&CertName::Directory(Cow::Owned(dn(""))), &alice, false));
    }

    #[test]
    fn from_der_refuses_minimum_maximum_and_empty() {
        let with_min = nc(&[tlv(0x30, &[dns("a.test"), tlv(0x80, &[1])].concat())], &[]);
        assert!(NameConstraints::from_der(&with_min)
            .unwrap_err()
            .0
            .contains("requires 0"));
        let explicit_zero = nc(&[tlv(0x30, &[dns("a.test"), tlv(0x80, &[0])].concat())], &[]);
        assert!(NameConstraints::from_der(&explicit_zero)
            .unwrap_err()
            .0
            .contains("not DER"));
        let with_max = nc(&[tlv(0x30, &[dns("a.test"), tlv(0x81, &[3])].concat())], &[]);
        assert!(NameConstraints::from_der(&with_max).unwrap_err().0.contains("maximum"));
        assert!(NameConstraints::from_der(&tlv(0x30, &[]))
            .unwrap_err()
            .0
            .contains("neither"));
        assert!(NameConstraints::from_der(&tlv(0x30, &tlv(0xa0, &[])))
            .unwrap_err()
            .0
            .contains("SIZE"));
        assert!(NameConstraints::from_der(b"\x30").unwrap_err().0.contains("not a DER"));
        let other = nc(&[subtree(tlv(0x88, &[0x2a, 3]))], &[]);
        let parsed = NameConstraints::from_der(&other).expect("registeredID subtree parses");
        assert_eq!(parsed.permitted(), Some(&[Subtree::Other(NameForm::RegisteredId)][..]));
    }

    fn state(ncs: &[Vec<u8>]) -> NameConstraintsState {
        let mut s = NameConstraintsState::new();
        for der in ncs {
            s.apply(&NameConstraints::from_der(der).expect("valid"));
        }
        s
    }

    #[test]
    fn permitted_intersect_per_form_and_excluded_union() {
        let s = state(&[
            nc(
                &[subtree(dns("example.com")), subtree(tlv(0x81, b".example.com"))],
                &[subtree(dns("bad.example.com"))],
            ),
            nc(
                &[subtree(dns("a.example.com")), subtree(dns("other.org"))],
                &[subtree(dns("worse.a.example.com"))],
            ),
        ]);
        let mut budget = 1000;
        let ok = |n: &str, b: &mut usize| s.check_name(&CertName::Dns(n), b);
        assert_eq!(ok("x.a.example.com", &mut budget), Ok(()));
        // In the second CA's set but not the first's: outside the intersection.
        assert!(matches!(
            ok("other.org", &mut budget),
            Err(NcViolation::Violated { .. })
        ));
        // In the first's but not the second's.
        assert!(matches!(
            ok("b.example.com", &mut budget),
            Err(NcViolation::Violated { .. })
        ));
        // Excluded by either CA.
        assert!(matches!(
            ok("bad.example.com", &mut budget),
            Err(NcViolation::Violated { .. })
        ));
        let e = ok("y.worse.a.example.com", &mut budget).unwrap_err();
        assert!(
            e.to_string()
                .contains("within excluded dNSName \"worse.a.example.com\""),
            "{e}"
        );
        // rfc822Name was constrained only by the first CA: its subtrees alone apply.
        assert_eq!(
            s.check_name(&CertName::Rfc822("u@mail.example.com"), &mut budget),
            Ok(())
        );
        assert!(s
            .check_name(&CertName::Rfc822("u@mail.other.org"), &mut budget)
            .is_err());
        // Forms nobody constrained stay unbounded.
        assert_eq!(s.check_name(&CertName::Ip(&[192, 0, 2, 1]), &mut budget), Ok(()));
        assert_eq!(s.check_name(&CertName::Other(NameForm::OtherName), &mut budget), Ok(()));
    }

    #[test]
    fn unsupported_form_under_constraint_is_reported() {
        let s = state(&[nc(&[], &[subtree(tlv(0x88, &[0x2a, 3]))])]);
        let mut budget = 10;
        let e = s
            .check_name(&CertName::Other(NameForm::RegisteredId), &mut budget)
            .unwrap_err();
        assert!(
            matches!(&e, NcViolation::Unsupported(m) if m.contains("registeredID")),
            "{e}"
        );
        assert_eq!(s.check_name(&CertName::Dns("a.test"), &mut budget), Ok(()));
    }

    #[test]
    fn budget_is_spent_per_comparison() {
        let many: Vec<Vec<u8>> = (0..5).map(|i| subtree(dns(&format!("d{i}.test")))).collect();
        let s = state(&[nc(&many, &[])]);
        let mut budget = 5;
        assert_eq!(s.check_name(&CertName::Dns("x.d4.test"), &mut budget), Ok(()));
        assert_eq!(budget, 0);
        assert_eq!(
            s.check_name(&CertName::Dns("x.d0.test"), &mut budget),
            Err(NcViolation::Budget)
        );
        let mut budget = 3;
        assert_eq!(
            s.check_name(&CertName::Dns("x.d4.test"), &mut budget),
            Err(NcViolation::Budget)
        );
    }

    #[test]
    fn violation_message_lists_a_bounded_number_of_subtrees() {
        let many: Vec<Vec<u8>> = (0..10).map(|i| subtree(dns(&format!("d{i}.test")))).collect();
        let s = state(&[nc(&many, &[])]);
        let e = s.check_name(&CertName::Dns("evil.test"), &mut 100).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("dNSName \"evil.test\" violates name constraints: not within any permitted subtree"),
            "{text}"
        );
        assert!(text.contains("and 6 more"), "{text}");
    }
}
