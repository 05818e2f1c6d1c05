//! Certificate policy processing (RFC 5280 §6.1.2 (a),(d)-(f), §6.1.3 (d)-(f),
//! §6.1.4 (a),(b),(h)-(j), §6.1.5 (a),(b),(g)) on the policy *graph* of RFC 9618.
//!
//! RFC 5280's valid_policy_tree can grow exponentially with the path length: a chain whose
//! certificates each map every one of m policies to every other one yields m^n leaves, a
//! denial of service any CA in the path (or anyone who can get a chain built through crafted
//! cross-certificates) can trigger (CVE-2023-0464 and friends). RFC 9618 keeps at most one
//! node per policy OID per depth and lets a node have several parents, which keeps the
//! structure linear in the size of the certificates. On top of that a budget caps the total
//! number of nodes, edges and expected-policy entries ever created for one path, so even a
//! path of huge certificates costs bounded time and memory.
//!
//! Use: [`PolicyState::new`] with the path length n (the anchor excluded), then
//! [`PolicyState::process_certificate`] for certificates 1..=n in order from the one the
//! anchor issued down to the end entity, then [`PolicyState::finish`].
//!
//! Policy qualifiers are parsed (the DER must be well formed) but not interpreted; the
//! output carries policy OIDs only. Criticality of certificatePolicies does not change the
//! processing: RFC 5280 §6.1 treats the extension the same either way, and since this module
//! processes it, a critical instance is a recognised extension.

use std::collections::HashMap;

use asn1::ObjectIdentifier;
use govsig_asn1::x509 as asn;

use crate::x509::cert::Certificate;

/// anyPolicy (RFC 5280 §4.2.1.4), dotted.
pub const ANY_POLICY: &str = "2.5.29.32.0";

/// Default cap on nodes + edges + expected-policy entries created for one path. Real paths
/// use a few dozen; the cap only stops crafted ones.
pub const DEFAULT_GRAPH_BUDGET: usize = 10_000;

const OID_CERTIFICATE_POLICIES: &str = "2.5.29.32";
const OID_POLICY_MAPPINGS: &str = "2.5.29.33";
const OID_POLICY_CONSTRAINTS: &str = "2.5.29.36";
const OID_INHIBIT_ANY_POLICY: &str = "2.5.29.54";

/// The policy inputs of RFC 5280 §6.1.1 (c), (e), (f), (g), plus the graph budget.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PolicyInputs {
    /// Dotted OIDs of the policies acceptable to the relying party; `["2.5.29.32.0"]`
    /// (any-policy) accepts whatever the authorities allow.
    pub user_initial_policy_set: Vec<String>,
    pub initial_explicit_policy: bool,
    pub initial_policy_mapping_inhibit: bool,
    pub initial_any_policy_inhibit: bool,
    /// When the user set is not any-policy and none of its policies is valid for the path,
    /// reject the path. RFC 5280 §6.1.5 leaves that decision to the application unless an
    /// explicit policy is required; NIST PKITS (e.g. 4.8.6 run 3, 4.10.1 run 2) and the
    /// §6.1.1 (c) wording ("policies that are acceptable to the certificate user") expect
    /// rejection, so that is the default. `false` gives the bare RFC 5280 success rule.
    pub require_acceptable_policy: bool,
    /// Cap on the work for one path (see [`DEFAULT_GRAPH_BUDGET`]).
    pub graph_budget: usize,
}

impl Default for PolicyInputs {
    fn default() -> Self {
        PolicyInputs {
            user_initial_policy_set: vec![ANY_POLICY.to_string()],
            initial_explicit_policy: false,
            initial_policy_mapping_inhibit: false,
            initial_any_policy_inhibit: false,
            require_acceptable_policy: true,
            graph_budget: DEFAULT_GRAPH_BUDGET,
        }
    }
}

/// Why policy processing rejected a path, or could not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyError {
    /// The path is not valid under the policy rules; the reason names the certificate.
    Invalid(String),
    /// The graph grew past [`PolicyInputs::graph_budget`] (a crafted path, RFC 9618 §1).
    Budget(String),
    /// The caller's inputs are unusable (a malformed OID, certificates out of step with the
    /// declared path length).
    BadInput(String),
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicyError::Invalid(s) | PolicyError::Budget(s) | PolicyError::BadInput(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for PolicyError {}

/// The result of policy processing (RFC 5280 §6.1.6 as amended by RFC 9618 §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyOutput {
    /// Sorted dotted OIDs, in the trust anchor's policy domain. May contain
    /// `"2.5.29.32.0"`, meaning the path is valid for any policy the user set allows.
    pub user_constrained_policy_set: Vec<String>,
    /// explicit_policy reached 0: the path had to be valid for some policy.
    pub explicit_policy_required: bool,
}

/// A node of the valid_policy_graph (RFC 9618 §3.2). Qualifier sets are not kept: the
/// output has no qualifiers, so they would cost memory for nothing.
#[derive(Clone, Debug)]
struct Node {
    valid_policy: ObjectIdentifier,
    expected_policy_set: Vec<ObjectIdentifier>,
    /// Indices into the level above (depth - 1).
    parents: Vec<usize>,
}

/// Why the graph became NULL, for a reason a person can act on.
#[derive(Clone, Copy, Debug)]
enum NullCause {
    /// §6.1.3 (e): certificate i has no certificatePolicies.
    NoPolicies(usize),
    /// §6.1.3 (d): none of certificate i's policies follows from the policies valid so far.
    NoMatch(usize),
    /// §6.1.4 (b)(2): policy mapping inhibited at certificate i removed the last policies.
    MappingInhibited(usize),
}

/// Where explicit_policy became 0.
#[derive(Clone, Copy, Debug)]
enum ExplicitCause {
    Initial,
    /// requireExplicitPolicy in certificate i (or the counter ran out there).
    Certificate(usize),
}

/// The policy part of the §6.1 state variables for one path.
#[derive(Debug)]
pub struct PolicyState {
    /// levels[d] = nodes of depth d; `None` is the NULL graph.
    graph: Option<Vec<Vec<Node>>>,
    null_cause: Option<NullCause>,
    explicit_policy: usize,
    explicit_cause: ExplicitCause,
    policy_mapping: usize,
    inhibit_any_policy: usize,
    user_initial_policy_set: Vec<ObjectIdentifier>,
    user_any: bool,
    require_acceptable_policy: bool,
    path_len: usize,
    /// Certificates processed so far (= the depth of the deepest level).
    processed: usize,
    /// requireExplicitPolicy of certificate n, for §6.1.5 (b).
    leaf_require_explicit: Option<usize>,
    leaf_description: String,
    spent: usize,
    budget: usize,
}

/// Policy extensions of one certificate, parsed.
struct CertPolicyExtensions {
    /// `None`: no certificatePolicies. Non-anyPolicy OIDs in certificate order.
    policies: Option<Vec<ObjectIdentifier>>,
    has_any_policy: bool,
    /// issuerDomainPolicy -> subjectDomainPolicy values, in certificate order, de-duplicated.
    mappings: Option<Vec<(ObjectIdentifier, Vec<ObjectIdentifier>)>>,
    require_explicit_policy: Option<usize>,
    inhibit_policy_mapping: Option<usize>,
    inhibit_any_policy: Option<usize>,
}

/// SkipCerts (INTEGER 0..MAX) as a count, saturating: any value above the path length
/// behaves the same, so a huge but valid value must not be rejected.
fn skip_certs(v: &asn1::BigUint<'_>) -> usize {
    let digits = v.as_bytes();
    let significant: &[u8] = match digits.iter().position(|&b| b != 0) {
        Some(p) => digits.get(p..).unwrap_or(&[]),
        None => &[],
    };
    if significant.len() > 8 {
        return usize::MAX;
    }
    let n = significant.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn any_policy() -> ObjectIdentifier {
    asn::ANY_POLICY
}

fn parse_extensions(cert: &Certificate) -> Result<CertPolicyExtensions, String> {
    let any = any_policy();
    let mut out = CertPolicyExtensions {
        policies: None,
        has_any_policy: false,
        mappings: None,
        require_explicit_policy: None,
        inhibit_policy_mapping: None,
        inhibit_any_policy: None,
    };
    if let Some(ext) = cert.extension(OID_CERTIFICATE_POLICIES) {
        let seq = asn1::parse_single::<asn::CertificatePolicies<'_>>(&ext.value).map_err(|e| {
            format!(
                "certificatePolicies is not valid DER: {}",
                govsig_asn1::common::explain(&e)
            )
        })?;
        let mut policies: Vec<ObjectIdentifier> = Vec::new();
        let mut seen_any = false;
        for info in seq {
            let id = info.policy_identifier;
            if let Some(q) = &info.policy_qualifiers {
                if q.is_empty() {
                    return Err(
                        "certificatePolicies has an empty policyQualifiers (RFC 5280 §4.2.1.4: SIZE (1..MAX))".into(),
                    );
                }
            }
            // RFC 5280 §4.2.1.4: "A certificate policy OID MUST NOT appear more than once".
            if id == any {
                if seen_any {
                    return Err("certificatePolicies lists anyPolicy twice (RFC 5280 §4.2.1.4)".into());
                }
                seen_any = true;
            } else {
                if policies.contains(&id) {
                    return Err(format!("certificatePolicies lists {id} twice (RFC 5280 §4.2.1.4)"));
                }
                policies.push(id);
            }
        }
        if policies.is_empty() && !seen_any {
            return Err("certificatePolicies is empty (RFC 5280 §4.2.1.4: SIZE (1..MAX))".into());
        }
        out.policies = Some(policies);
        out.has_any_policy = seen_any;
    }
    if let Some(ext) = cert.extension(OID_POLICY_MAPPINGS) {
        let seq = asn1::parse_single::<asn::PolicyMappings<'_>>(&ext.value)
            .map_err(|e| format!("policyMappings is not valid DER: {}", govsig_asn1::common::explain(&e)))?;
        let mut grouped: Vec<(ObjectIdentifier, Vec<ObjectIdentifier>)> = Vec::new();
        for m in seq {
            let (idp, sdp) = (m.issuer_domain_policy, m.subject_domain_policy);
            match grouped.iter_mut().find(|(i, _)| *i == idp) {
                Some((_, subjects)) => {
                    if !subjects.contains(&sdp) {
                        subjects.push(sdp);
                    }
                }
                None => grouped.push((idp, vec![sdp])),
            }
        }
        if grouped.is_empty() {
            return Err("policyMappings is empty (RFC 5280 §4.2.1.5: SIZE (1..MAX))".into());
        }
        out.mappings = Some(grouped);
    }
    if let Some(ext) = cert.extension(OID_POLICY_CONSTRAINTS) {
        let pc = asn1::parse_single::<asn::PolicyConstraints<'_>>(&ext.value).map_err(|e| {
            format!(
                "policyConstraints is not valid DER: {}",
                govsig_asn1::common::explain(&e)
            )
        })?;
        // RFC 5280 §4.2.1.11: "Conforming CAs MUST NOT issue certificates where policy
        // constraints is an empty sequence."
        if pc.require_explicit_policy.is_none() && pc.inhibit_policy_mapping.is_none() {
            return Err("policyConstraints is an empty sequence (RFC 5280 §4.2.1.11)".into());
        }
        out.require_explicit_policy = pc.require_explicit_policy.as_ref().map(skip_certs);
        out.inhibit_policy_mapping = pc.inhibit_policy_mapping.as_ref().map(skip_certs);
    }
    if let Some(ext) = cert.extension(OID_INHIBIT_ANY_POLICY) {
        let v = asn1::parse_single::<asn::InhibitAnyPolicy<'_>>(&ext.value).map_err(|e| {
            format!(
                "inhibitAnyPolicy is not valid DER: {}",
                govsig_asn1::common::explain(&e)
            )
        })?;
        out.inhibit_any_policy = Some(skip_certs(&v));
    }
    Ok(out)
}

fn join_oids<'a>(oids: impl IntoIterator<Item = &'a ObjectIdentifier>) -> String {
    let v: Vec<String> = oids.into_iter().map(|o| o.to_string()).collect();
    if v.is_empty() {
        "{}".to_string()
    } else {
        format!("{{{}}}", v.join(", "))
    }
}

/// Removes nodes of depth < deepest that have no children, repeatedly (§6.1.3 (d)(3),
/// §6.1.4 (b)(2)(ii)). Returns false when the graph became empty (NULL).
fn prune(levels: &mut [Vec<Node>]) -> bool {
    for d in (0..levels.len().saturating_sub(1)).rev() {
        let (upper, lower) = levels.split_at_mut(d + 1);
        let (Some(parent_level), Some(child_level)) = (upper.last_mut(), lower.first_mut()) else {
            break;
        };
        let mut has_child = vec![false; parent_level.len()];
        for c in child_level.iter() {
            for &p in &c.parents {
                if let Some(h) = has_child.get_mut(p) {
                    *h = true;
                }
            }
        }
        if has_child.iter().all(|&h| h) {
            // Nothing removed here, so nothing above can lose its last child either.
            break;
        }
        let mut new_index = vec![usize::MAX; parent_level.len()];
        let mut kept = 0usize;
        for (slot, &h) in new_index.iter_mut().zip(&has_child) {
            if h {
                *slot = kept;
                kept += 1;
            }
        }
        let mut flags = has_child.iter();
        parent_level.retain(|_| flags.next().copied().unwrap_or(false));
        for c in child_level.iter_mut() {
            for p in c.parents.iter_mut() {
                *p = new_index.get(*p).copied().unwrap_or(usize::MAX);
            }
            c.parents.retain(|&p| p != usize::MAX);
        }
    }
    levels.last().is_some_and(|l| !l.is_empty()) && levels.first().is_some_and(|l| !l.is_empty())
}

impl PolicyState {
    /// §6.1.2 (a), (d)-(f): the graph is a single anyPolicy node of depth 0; each counter
    /// is 0 when its initial input is set, else n + 1. `path_len` is n, the number of
    /// certificates after the trust anchor.
    pub fn new(inputs: &PolicyInputs, path_len: usize) -> Result<Self, PolicyError> {
        if inputs.user_initial_policy_set.is_empty() {
            return Err(PolicyError::BadInput(
                "user_initial_policy_set is empty; use [\"2.5.29.32.0\"] (anyPolicy) to accept any policy".into(),
            ));
        }
        let mut user = Vec::with_capacity(inputs.user_initial_policy_set.len());
        for s in &inputs.user_initial_policy_set {
            let oid = ObjectIdentifier::from_string(s.trim())
                .ok_or_else(|| PolicyError::BadInput(format!("user_initial_policy_set: '{s}' is not a dotted OID")))?;
            if !user.contains(&oid) {
                user.push(oid);
            }
        }
        let any = any_policy();
        let user_any = user.contains(&any);
        let start = path_len.saturating_add(1);
        let counter = |inhibit: bool| if inhibit { 0 } else { start };
        Ok(PolicyState {
            graph: Some(vec![vec![Node {
                valid_policy: any.clone(),
                expected_policy_set: vec![any],
                parents: Vec::new(),
            }]]),
            null_cause: None,
            explicit_policy: counter(inputs.initial_explicit_policy),
            explicit_cause: ExplicitCause::Initial,
            policy_mapping: counter(inputs.initial_policy_mapping_inhibit),
            inhibit_any_policy: counter(inputs.initial_any_policy_inhibit),
            user_initial_policy_set: user,
            user_any,
            require_acceptable_policy: inputs.require_acceptable_policy,
            path_len,
            processed: 0,
            leaf_require_explicit: None,
            leaf_description: String::new(),
            spent: 1,
            budget: inputs.graph_budget,
        })
    }

    /// Nodes + edges + expected-policy entries created so far (the budgeted quantity).
    pub fn graph_work(&self) -> usize {
        self.spent
    }

    /// Current explicit_policy counter (§6.1.2 (d)).
    pub fn explicit_policy(&self) -> usize {
        self.explicit_policy
    }

    /// Current policy_mapping counter (§6.1.2 (f)).
    pub fn policy_mapping(&self) -> usize {
        self.policy_mapping
    }

    /// Current inhibit_anyPolicy counter (§6.1.2 (e)).
    pub fn inhibit_any_policy(&self) -> usize {
        self.inhibit_any_policy
    }

    /// Whether the valid_policy_graph is NULL.
    pub fn graph_is_null(&self) -> bool {
        self.graph.is_none()
    }

    fn charge(&mut self, amount: usize, cert: &Certificate) -> Result<(), PolicyError> {
        self.spent = self.spent.saturating_add(amount);
        if self.spent > self.budget {
            return Err(PolicyError::Budget(format!(
                "certificate policy graph for the path exceeded its budget of {} nodes and edges at {} \
                 (RFC 9618: a crafted policy/mapping structure)",
                self.budget,
                cert.describe()
            )));
        }
        Ok(())
    }

    /// Processes certificate i (1-based from the anchor side; the call order gives i):
    /// §6.1.3 (d)-(f), then, unless it is certificate n, §6.1.4 (a), (b), (h)-(j).
    pub fn process_certificate(&mut self, cert: &Certificate) -> Result<(), PolicyError> {
        if self.processed >= self.path_len {
            return Err(PolicyError::BadInput(format!(
                "policy processing was told the path has {} certificates but got another one, {}",
                self.path_len,
                cert.describe()
            )));
        }
        self.processed += 1;
        let i = self.processed;
        let is_last = i == self.path_len;
        let ext = parse_extensions(cert).map_err(|e| PolicyError::Invalid(format!("{}: {e}", cert.describe())))?;
        let self_issued = cert.is_self_issued();

        // §6.1.3 (d) / (e).
        match &ext.policies {
            Some(policies) => {
                if self.graph.is_some() {
                    let allow_any = ext.has_any_policy && (self.inhibit_any_policy > 0 || (!is_last && self_issued));
                    self.add_level(cert, policies, allow_any)?;
                    if self.graph.is_none() {
                        self.null_cause = Some(NullCause::NoMatch(i));
                    }
                }
            }
            None => {
                if self.graph.is_some() {
                    self.null_cause = Some(NullCause::NoPolicies(i));
                }
                self.graph = None;
            }
        }
        // §6.1.3 (f).
        if self.explicit_policy == 0 && self.graph.is_none() {
            return Err(PolicyError::Invalid(format!(
                "{}: no certificate policy is valid for the path ({}) but an explicit policy is required ({})",
                cert.describe(),
                self.null_reason(),
                self.explicit_reason()
            )));
        }

        if is_last {
            self.leaf_require_explicit = ext.require_explicit_policy;
            self.leaf_description = cert.describe();
            return Ok(());
        }

        // §6.1.4 (a).
        if let Some(mappings) = &ext.mappings {
            let any = any_policy();
            for (idp, sdps) in mappings {
                if *idp == any || sdps.contains(&any) {
                    return Err(PolicyError::Invalid(format!(
                        "{}: policyMappings maps to or from anyPolicy (RFC 5280 §6.1.4 (a))",
                        cert.describe()
                    )));
                }
            }
            // §6.1.4 (b).
            if self.graph.is_some() {
                self.apply_mappings(cert, mappings)?;
                if self.graph.is_none() {
                    self.null_cause = Some(NullCause::MappingInhibited(i));
                }
            }
        }

        // §6.1.4 (h): self-issued certificates do not count against the skip counts.
        if !self_issued {
            if self.explicit_policy > 0 {
                self.explicit_policy -= 1;
                if self.explicit_policy == 0 {
                    self.explicit_cause = ExplicitCause::Certificate(i);
                }
            }
            self.policy_mapping = self.policy_mapping.saturating_sub(1);
            self.inhibit_any_policy = self.inhibit_any_policy.saturating_sub(1);
        }
        // §6.1.4 (i).
        if let Some(r) = ext.require_explicit_policy {
            if r < self.explicit_policy {
                self.explicit_policy = r;
                if r == 0 {
                    self.explicit_cause = ExplicitCause::Certificate(i);
                }
            }
        }
        if let Some(m) = ext.inhibit_policy_mapping {
            self.policy_mapping = self.policy_mapping.min(m);
        }
        // §6.1.4 (j).
        if let Some(a) = ext.inhibit_any_policy {
            self.inhibit_any_policy = self.inhibit_any_policy.min(a);
        }
        Ok(())
    }

    /// §6.1.3 (d)(1)-(3) in the RFC 9618 form: one node per policy at the new depth, whose
    /// parents are every node of the level above that expects it.
    fn add_level(
        &mut self,
        cert: &Certificate,
        policies: &[ObjectIdentifier],
        allow_any: bool,
    ) -> Result<(), PolicyError> {
        let any = any_policy();
        let Some(levels) = self.graph.as_ref() else {
            return Ok(());
        };
        let Some(prev) = levels.last() else {
            return Ok(());
        };
        // expected policy -> parents, in first-seen order so the graph is deterministic.
        let mut order: Vec<ObjectIdentifier> = Vec::new();
        let mut expecting: HashMap<&ObjectIdentifier, Vec<usize>> = HashMap::new();
        for (idx, node) in prev.iter().enumerate() {
            for e in &node.expected_policy_set {
                let slot = expecting.entry(e).or_default();
                if slot.is_empty() {
                    order.push(e.clone());
                }
                slot.push(idx);
            }
        }
        let any_parent = prev.iter().position(|n| n.valid_policy == any);
        let mut level: Vec<Node> = Vec::new();
        let mut cost = 0usize;
        // (d)(1): each policy other than anyPolicy.
        for p in policies {
            let parents = match expecting.get(p) {
                Some(parents) => parents.clone(),
                None => match any_parent {
                    Some(a) => vec![a],
                    None => continue,
                },
            };
            cost = cost.saturating_add(2 + parents.len());
            level.push(Node {
                valid_policy: p.clone(),
                expected_policy_set: vec![p.clone()],
                parents,
            });
        }
        // (d)(2): anyPolicy in the certificate stands for every policy the level above
        // expects (anyPolicy included) that (d)(1) did not already produce.
        if allow_any {
            for p in &order {
                if level.iter().any(|n| &n.valid_policy == p) {
                    continue;
                }
                let parents = expecting.get(p).cloned().unwrap_or_default();
                cost = cost.saturating_add(2 + parents.len());
                level.push(Node {
                    valid_policy: p.clone(),
                    expected_policy_set: vec![p.clone()],
                    parents,
                });
            }
        }
        self.charge(cost, cert)?;
        let mut levels = self.graph.take().unwrap_or_default();
        levels.push(level);
        // (d)(3).
        if prune(&mut levels) {
            self.graph = Some(levels);
        }
        Ok(())
    }

    /// §6.1.4 (b) in the RFC 9618 form.
    fn apply_mappings(
        &mut self,
        cert: &Certificate,
        mappings: &[(ObjectIdentifier, Vec<ObjectIdentifier>)],
    ) -> Result<(), PolicyError> {
        let any = any_policy();
        let mut levels = self.graph.take().unwrap_or_default();
        if self.policy_mapping > 0 {
            // (b)(1).
            let any_parent = levels
                .len()
                .checked_sub(2)
                .and_then(|d| levels.get(d))
                .and_then(|l| l.iter().position(|n| n.valid_policy == any));
            let mut cost = 0usize;
            if let Some(level) = levels.last_mut() {
                let has_any = level.iter().any(|n| n.valid_policy == any);
                for (idp, sdps) in mappings {
                    cost = cost.saturating_add(sdps.len());
                    if let Some(node) = level.iter_mut().find(|n| &n.valid_policy == idp) {
                        node.expected_policy_set = sdps.clone();
                    } else if has_any {
                        if let Some(a) = any_parent {
                            cost = cost.saturating_add(2);
                            level.push(Node {
                                valid_policy: idp.clone(),
                                expected_policy_set: sdps.clone(),
                                parents: vec![a],
                            });
                        }
                    }
                }
            }
            self.graph = Some(levels);
            self.charge(cost, cert)?;
        } else {
            // (b)(2): mapping inhibited, so the mapped policies end here.
            if let Some(level) = levels.last_mut() {
                level.retain(|n| !mappings.iter().any(|(idp, _)| idp == &n.valid_policy));
            }
            if prune(&mut levels) {
                self.graph = Some(levels);
            }
        }
        Ok(())
    }

    fn null_reason(&self) -> String {
        match self.null_cause {
            Some(NullCause::NoPolicies(i)) => format!("certificate {i} of the path has no certificatePolicies"),
            Some(NullCause::NoMatch(i)) => {
                format!("none of the policies of certificate {i} of the path follows from the policies valid above it")
            }
            Some(NullCause::MappingInhibited(i)) => {
                format!("policy mapping is inhibited at certificate {i} of the path, which maps the remaining policies")
            }
            None => "no policy remains".to_string(),
        }
    }

    fn explicit_reason(&self) -> String {
        match self.explicit_cause {
            ExplicitCause::Initial => "initial-explicit-policy is set".to_string(),
            ExplicitCause::Certificate(i) => {
                format!("requireExplicitPolicy in the policyConstraints of certificate {i} of the path (or above it) took effect")
            }
        }
    }

    /// §6.1.5 (a), (b), (g): wrap-up, and the user-constrained policy set of RFC 9618 §5
    /// (the replacement of RFC 5280 §6.1.5 (g)).
    pub fn finish(mut self) -> Result<PolicyOutput, PolicyError> {
        if self.processed != self.path_len {
            return Err(PolicyError::BadInput(format!(
                "policy processing finished after {} of the {} certificates of the path",
                self.processed, self.path_len
            )));
        }
        // (a)
        if self.explicit_policy > 0 {
            self.explicit_policy -= 1;
            if self.explicit_policy == 0 {
                self.explicit_cause = ExplicitCause::Certificate(self.path_len);
            }
        }
        // (b)
        if self.leaf_require_explicit == Some(0) {
            self.explicit_policy = 0;
            self.explicit_cause = ExplicitCause::Certificate(self.path_len);
        }
        let any = any_policy();
        // (g) 1-4: authority_constrained_policy_set = policies of the nodes whose parent
        // is anyPolicy (where the path leaves anyPolicy, named in the anchor's domain),
        // plus anyPolicy when it survives to depth n.
        let mut authority: Vec<ObjectIdentifier> = Vec::new();
        if let Some(levels) = &self.graph {
            for pair in levels.windows(2) {
                let (Some(above), Some(level)) = (pair.first(), pair.get(1)) else {
                    continue;
                };
                for node in level {
                    if node.valid_policy == any || authority.contains(&node.valid_policy) {
                        continue;
                    }
                    let under_any = node
                        .parents
                        .iter()
                        .any(|&p| above.get(p).is_some_and(|n| n.valid_policy == any));
                    if under_any {
                        authority.push(node.valid_policy.clone());
                    }
                }
            }
            if levels.last().is_some_and(|l| l.iter().any(|n| n.valid_policy == any)) {
                authority.push(any.clone());
            }
        }
        // (g) 5-6.
        let user_constrained: Vec<ObjectIdentifier> = if self.user_any {
            authority.clone()
        } else if authority.contains(&any) {
            self.user_initial_policy_set.clone()
        } else {
            authority
                .iter()
                .filter(|p| self.user_initial_policy_set.contains(p))
                .cloned()
                .collect()
        };
        let leaf = if self.leaf_description.is_empty() {
            "the trust anchor".to_string()
        } else {
            self.leaf_description.clone()
        };
        if user_constrained.is_empty() {
            let why = if authority.is_empty() {
                format!("no certificate policy is valid for the path ({})", self.null_reason())
            } else {
                format!(
                    "the path is valid for policies {} but the acceptable policies are {}",
                    join_oids(&authority),
                    join_oids(&self.user_initial_policy_set)
                )
            };
            if self.explicit_policy == 0 {
                return Err(PolicyError::Invalid(format!(
                    "{leaf}: {why}, and an explicit policy is required ({})",
                    self.explicit_reason()
                )));
            }
            if !self.user_any && self.require_acceptable_policy {
                return Err(PolicyError::Invalid(format!("{leaf}: {why}")));
            }
        }
        let mut set: Vec<String> = user_constrained.iter().map(|o| o.to_string()).collect();
        set.sort();
        Ok(PolicyOutput {
            user_constrained_policy_set: set,
            explicit_policy_required: self.explicit_policy == 0,
        })
    }
}

#[cfg(test)]
mod tests {
    //! Unit tests on certificates assembled here from DER pieces, so every extension value
    //! (including malformed and oversized ones) is under the test's control. The certificates
    //! are never signature-checked: policy processing does not look at signatures.
    use super::*;
    use crate::crypto::der::tlv;

    const P1: &str = "1.3.6.1.4.1.55555.1.1";
    const P2: &str = "1.3.6.1.4.1.55555.1.2";
    const P3: &str = "1.3.6.1.4.1.55555.1.3";

    fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x30, &parts.concat())
    }

    fn oid(s: &str) -> Vec<u8> {
        asn1::write_single(&ObjectIdentifier::from_string(s).expect("test OID")).expect("encode OID")
    }

    fn uint(v: u64) -> Vec<u8> {
        let mut b: Vec<u8> = v.to_be_bytes().iter().copied().skip_while(|&b| b == 0).collect();
        if b.first().map_or(true, |&x| x & 0x80 != 0) {
            b.insert(0, 0);
        }
        b
    }

    fn name(cn: &str) -> Vec<u8> {
        seq(&[tlv(0x31, &seq(&[oid("2.5.4.3"), tlv(0x0c, cn.as_bytes())]))])
    }

    /// A v3 certificate `subject` issued by `issuer` with the given (oid, critical, value)
    /// extensions.
    fn cert(subject: &str, issuer: &str, exts: &[(&str, bool, Vec<u8>)]) -> Certificate {
        let alg = seq(&[oid("1.2.840.10045.4.3.2")]);
        let spki = seq(&[
            seq(&[oid("1.2.840.10045.2.1"), oid("1.2.840.10045.3.1.7")]),
            tlv(0x03, &[&[0u8, 4][..], &[7u8; 64][..]].concat()),
        ]);
        let mut ext_list = Vec::new();
        for (o, critical, value) in exts {
            let mut parts = vec![oid(o)];
            if *critical {
                parts.push(vec![0x01, 0x01, 0xff]);
            }
            parts.push(tlv(0x04, value));
            ext_list.push(seq(&parts));
        }
        let mut tbs = vec![
            tlv(0xa0, &tlv(0x02, &[2])),
            tlv(0x02, &[1]),
            alg.clone(),
            name(issuer),
            seq(&[tlv(0x17, b"200101000000Z"), tlv(0x17, b"400101000000Z")]),
            name(subject),
            spki,
        ];
        if !ext_list.is_empty() {
            tbs.push(tlv(0xa3, &seq(&ext_list)));
        }
        let der = seq(&[seq(&tbs), alg, tlv(0x03, &[0, 1, 2, 3])]);
        Certificate::from_der(&der).expect("test certificate parses")
    }

    fn policies(oids: &[&str]) -> (&'static str, bool, Vec<u8>) {
        (
            OID_CERTIFICATE_POLICIES,
            false,
            seq(&oids.iter().map(|o| seq(&[oid(o)])).collect::<Vec<_>>()),
        )
    }

    fn mappings(pairs: &[(&str, &str)]) -> (&'static str, bool, Vec<u8>) {
        (
            OID_POLICY_MAPPINGS,
            true,
            seq(&pairs.iter().map(|(a, b)| seq(&[oid(a), oid(b)])).collect::<Vec<_>>()),
        )
    }

    fn constraints(require: Option<u64>, inhibit_mapping: Option<u64>) -> (&'static str, bool, Vec<u8>) {
        let mut parts = Vec::new();
        if let Some(r) = require {
            parts.push(tlv(0x80, &uint(r)));
        }
        if let Some(m) = inhibit_mapping {
            parts.push(tlv(0x81, &uint(m)));
        }
        (OID_POLICY_CONSTRAINTS, true, seq(&parts))
    }

    fn inhibit_any(v: u64) -> (&'static str, bool, Vec<u8>) {
        (OID_INHIBIT_ANY_POLICY, true, tlv(0x02, &uint(v)))
    }

    fn run(inputs: &PolicyInputs, path: &[Certificate]) -> Result<PolicyOutput, PolicyError> {
        let mut st = PolicyState::new(inputs, path.len())?;
        for c in path {
            st.process_certificate(c)?;
        }
        st.finish()
    }

    fn set(v: &[&str]) -> Vec<String> {
        let mut s: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        s.sort();
        s
    }

    fn user(oids: &[&str]) -> PolicyInputs {
        PolicyInputs {
            user_initial_policy_set: oids.iter().map(|s| s.to_string()).collect(),
            ..PolicyInputs::default()
        }
    }

    fn invalid_reason(r: Result<PolicyOutput, PolicyError>) -> String {
        match r {
            Err(PolicyError::Invalid(s)) => s,
            other => panic!("expected PolicyError::Invalid, got {other:?}"),
        }
    }

    #[test]
    fn same_policy_down_the_path() {
        let path = [
            cert("CA", "Root", &[policies(&[P1, P2])]),
            cert("EE", "CA", &[policies(&[P1])]),
        ];
        let out = run(&PolicyInputs::default(), &path).expect("valid");
        assert_eq!(out.user_constrained_policy_set, set(&[P1]));
        assert!(!out.explicit_policy_required);
        let out = run(&user(&[P1, P3]), &path).expect("valid");
        assert_eq!(out.user_constrained_policy_set, set(&[P1]));
        let why = invalid_reason(run(&user(&[P2]), &path));
        assert!(why.contains("'CN=EE'") && why.contains(P1) && why.contains(P2), "{why}");
        // The bare RFC 5280 rule accepts, with an empty policy set.
        let lax = PolicyInputs {
            require_acceptable_policy: false,
            ..user(&[P2])
        };
        assert_eq!(
            run(&lax, &path).expect("valid").user_constrained_policy_set,
            Vec::<String>::new()
        );
    }

    #[test]
    fn any_policy_to_the_end_means_any() {
        let path = [
            cert("CA", "Root", &[policies(&[ANY_POLICY])]),
            cert("EE", "CA", &[policies(&[ANY_POLICY])]),
        ];
        let out = run(&PolicyInputs::default(), &path).expect("valid");
        assert_eq!(out.user_constrained_policy_set, set(&[ANY_POLICY]));
        let out = run(&user(&[P2, P3]), &path).expect("valid");
        assert_eq!(out.user_constrained_policy_set, set(&[P2, P3]));
    }

    #[test]
    fn missing_policies_with_explicit_policy_is_rejected_at_that_certificate() {
        let path = [cert("CA", "Root", &[policies(&[P1])]), cert("EE", "CA", &[])];
        let out = run(&PolicyInputs::default(), &path).expect("no explicit policy: valid, no policy");
        assert!(out.user_constrained_policy_set.is_empty());
        let inputs = PolicyInputs {
            initial_explicit_policy: true,
            ..PolicyInputs::default()
        };
        let why = invalid_reason(run(&inputs, &path));
        assert!(
            why.contains("'CN=EE'")
                && why.contains("no certificatePolicies")
                && why.contains("initial-explicit-policy"),
            "{why}"
        );
    }

    #[test]
    fn mapping_and_its_inhibition() {
        let path = [
            cert("CA", "Root", &[policies(&[P1]), mappings(&[(P1, P2), (P1, P3)])]),
            cert("EE", "CA", &[policies(&[P3])]),
        ];
        // The output is in the anchor's domain: P3 below the mapping is P1 above it.
        let out = run(&PolicyInputs::default(), &path).expect("valid");
        assert_eq!(out.user_constrained_policy_set, set(&[P1]));
        let inhibited = PolicyInputs {
            initial_policy_mapping_inhibit: true,
            initial_explicit_policy: true,
            ..PolicyInputs::default()
        };
        let why = invalid_reason(run(&inhibited, &path));
        assert!(why.contains("mapping is inhibited at certificate 1"), "{why}");
    }

    #[test]
    fn mapping_through_any_policy_creates_the_issuer_domain_node() {
        // §6.1.4 (b)(1): CA asserts anyPolicy and maps P1 -> P2; the EE's P2 is valid as P1.
        let path = [
            cert("CA", "Root", &[policies(&[ANY_POLICY]), mappings(&[(P1, P2)])]),
            cert("EE", "CA", &[policies(&[P2])]),
        ];
        let out = run(&PolicyInputs::default(), &path).expect("valid");
        assert_eq!(out.user_constrained_policy_set, set(&[P1]));
    }

    #[test]
    fn mapping_any_policy_is_malformed() {
        for pair in [(ANY_POLICY, P1), (P1, ANY_POLICY)] {
            let path = [
                cert("CA", "Root", &[policies(&[P1]), mappings(&[pair])]),
                cert("EE", "CA", &[policies(&[P1])]),
            ];
            let why = invalid_reason(run(&PolicyInputs::default(), &path));
            assert!(why.contains("'CN=CA'") && why.contains("§6.1.4 (a)"), "{why}");
        }
    }

    #[test]
    fn inhibit_any_policy_skips_self_issued_but_not_the_end_entity() {
        let chain = |mid_subject: &str, ee: Vec<(&'static str, bool, Vec<u8>)>| {
            [
                cert("CA", "Root", &[policies(&[ANY_POLICY]), inhibit_any(0)]),
                cert(mid_subject, "CA", &[policies(&[ANY_POLICY])]),
                cert("EE", mid_subject, &ee),
            ]
        };
        let strict = PolicyInputs {
            initial_explicit_policy: true,
            ..PolicyInputs::default()
        };
        // A self-issued intermediate may still use anyPolicy (§6.1.3 (d)(2), i < n).
        let out = run(&strict, &chain("CA", vec![policies(&[P1])])).expect("valid");
        assert_eq!(out.user_constrained_policy_set, set(&[P1]));
        // A different CA may not.
        let why = invalid_reason(run(&strict, &chain("Sub", vec![policies(&[P1])])));
        assert!(why.contains("'CN=Sub'"), "{why}");
        // The end entity is certificate n: self-issued or not, its anyPolicy is inhibited.
        let path = [
            cert("CA", "Root", &[policies(&[ANY_POLICY]), inhibit_any(0)]),
            cert("CA", "CA", &[policies(&[ANY_POLICY])]),
        ];
        let why = invalid_reason(run(&strict, &path));
        assert!(why.contains("certificate 2"), "{why}");
        assert!(run(
            &PolicyInputs {
                initial_any_policy_inhibit: true,
                ..strict.clone()
            },
            &chain("CA", vec![policies(&[P1])])
        )
        .is_err());
    }

    #[test]
    fn require_explicit_policy_counts_non_self_issued_certificates() {
        let path = |skip: u64, mid: &str| {
            [
                cert("CA", "Root", &[policies(&[P1]), constraints(Some(skip), None)]),
                cert(mid, "CA", &[]),
                cert("EE", mid, &[]),
            ]
        };
        // skip 1: the certificate after CA may lack policies, the next one may not.
        let why = invalid_reason(run(&PolicyInputs::default(), &path(1, "Sub")));
        assert!(
            why.contains("'CN=EE'") && why.contains("requireExplicitPolicy"),
            "{why}"
        );
        // skip 2: explicit_policy reaches 0 in the wrap-up (§6.1.5 (a)), with no policy left.
        assert!(run(&PolicyInputs::default(), &path(2, "Sub")).is_err());
        assert!(run(&PolicyInputs::default(), &path(3, "Sub"))
            .expect("valid")
            .user_constrained_policy_set
            .is_empty());
        // A self-issued intermediate does not count (§6.1.4 (h)): with skip 2 the EE and
        // the wrap-up still see explicit_policy > 0.
        let out = run(&PolicyInputs::default(), &path(2, "CA")).expect("valid");
        assert!(out.user_constrained_policy_set.is_empty() && !out.explicit_policy_required);
        let mut st = PolicyState::new(&PolicyInputs::default(), 3).expect("inputs");
        let p = path(2, "CA");
        for c in p.iter().take(2) {
            st.process_certificate(c).expect("CA certificates pass");
        }
        assert_eq!(
            st.explicit_policy(),
            2,
            "self-issued certificate 2 must not decrement explicit_policy"
        );
    }

    #[test]
    fn end_entity_require_explicit_zero_applies_in_wrap_up() {
        // §6.1.5 (b).
        let path = [cert("CA", "Root", &[]), cert("EE", "CA", &[constraints(Some(0), None)])];
        let why = invalid_reason(run(&PolicyInputs::default(), &path));
        assert!(why.contains("'CN=EE'"), "{why}");
        let path = [
            cert("CA", "Root", &[policies(&[P1])]),
            cert("EE", "CA", &[policies(&[P1]), constraints(Some(0), None)]),
        ];
        let out = run(&PolicyInputs::default(), &path).expect("valid");
        assert!(out.explicit_policy_required);
        assert_eq!(out.user_constrained_policy_set, set(&[P1]));
    }

    #[test]
    fn inhibit_policy_mapping_counts_and_skips_self_issued() {
        let path = |mid: &str| {
            [
                cert("CA", "Root", &[policies(&[P1]), constraints(None, Some(1))]),
                cert(mid, "CA", &[policies(&[P1])]),
                cert("CA2", mid, &[policies(&[P1]), mappings(&[(P1, P2)])]),
                cert("EE", "CA2", &[policies(&[P2])]),
            ]
        };
        let explicit = PolicyInputs {
            initial_explicit_policy: true,
            ..PolicyInputs::default()
        };
        // Sub is not self-issued: policy_mapping is 0 at CA2, its mapped P1 node is deleted.
        assert!(run(&explicit, &path("Sub")).is_err());
        // Self-issued CA does not count: CA2 may still map.
        assert_eq!(
            run(&explicit, &path("CA")).expect("valid").user_constrained_policy_set,
            set(&[P1])
        );
    }

    /// RFC 9618 §1's attack: every CA maps each of m policies to all m policies. The RFC
    /// 5280 tree has m^depth leaves; the graph has m nodes and m^2 edges per depth.
    #[test]
    fn exponential_tree_chain_stays_linear() {
        let m = 8usize;
        let depth = 8usize;
        let oids: Vec<String> = (0..m).map(|k| format!("1.3.6.1.4.1.55555.7.{k}")).collect();
        let refs: Vec<&str> = oids.iter().map(String::as_str).collect();
        let pairs: Vec<(&str, &str)> = refs.iter().flat_map(|a| refs.iter().map(move |b| (*a, *b))).collect();
        let mut path = Vec::new();
        for d in 0..depth {
            let (subject, issuer) = (
                format!("CA{d}"),
                if d == 0 {
                    "Root".to_string()
                } else {
                    format!("CA{}", d - 1)
                },
            );
            path.push(cert(&subject, &issuer, &[policies(&refs), mappings(&pairs)]));
        }
        path.push(cert("EE", &format!("CA{}", depth - 1), &[policies(&refs)]));
        let mut st = PolicyState::new(&PolicyInputs::default(), path.len()).expect("inputs");
        for c in &path {
            st.process_certificate(c).expect("within budget");
        }
        // m^depth = 16.7 million tree leaves; the graph did a few thousand units of work.
        let work = st.graph_work();
        assert!(
            work < 2 * (depth + 1) * (m * m + 2 * m) + 10,
            "graph work {work} is not linear in the input"
        );
        assert_eq!(st.finish().expect("valid").user_constrained_policy_set, {
            let mut v = oids.clone();
            v.sort();
            v
        });
    }

    #[test]
    fn budget_stops_oversized_graphs() {
        let oids: Vec<String> = (0..60).map(|k| format!("1.3.6.1.4.1.55555.9.{k}")).collect();
        let refs: Vec<&str> = oids.iter().map(String::as_str).collect();
        let pairs: Vec<(&str, &str)> = refs.iter().flat_map(|a| refs.iter().map(move |b| (*a, *b))).collect();
        let path = [
            cert("CA", "Root", &[policies(&refs), mappings(&pairs)]),
            cert("CA2", "CA", &[policies(&refs), mappings(&pairs)]),
            cert("CA3", "CA2", &[policies(&refs), mappings(&pairs)]),
            cert("EE", "CA3", &[policies(&refs)]),
        ];
        match run(&PolicyInputs::default(), &path) {
            Err(PolicyError::Budget(why)) => assert!(why.contains("10000") && why.contains("'CN="), "{why}"),
            other => panic!("expected the budget to stop this path, got {other:?}"),
        }
        let roomy = PolicyInputs {
            graph_budget: 100_000,
            ..PolicyInputs::default()
        };
        assert_eq!(
            run(&roomy, &path)
                .expect("valid with a larger budget")
                .user_constrained_policy_set
                .len(),
            60
        );
    }

    #[test]
    fn malformed_extensions_are_rejected_with_the_certificate_named() {
        let cases: Vec<((&str, bool, Vec<u8>), &str)> = vec![
            (
                (OID_CERTIFICATE_POLICIES, false, vec![0x30, 0x05, 0x06]),
                "certificatePolicies is not valid DER",
            ),
            (
                (OID_CERTIFICATE_POLICIES, false, seq(&[])),
                "certificatePolicies is empty",
            ),
            (policies(&[P1, P1]), "twice"),
            (policies(&[ANY_POLICY, ANY_POLICY]), "twice"),
            (
                (OID_CERTIFICATE_POLICIES, false, seq(&[seq(&[oid(P1), seq(&[])])])),
                "empty policyQualifiers",
            ),
            ((OID_POLICY_MAPPINGS, false, seq(&[])), "policyMappings is empty"),
            (
                (OID_POLICY_MAPPINGS, false, seq(&[seq(&[oid(P1)])])),
                "policyMappings is not valid DER",
            ),
            ((OID_POLICY_CONSTRAINTS, false, seq(&[])), "empty sequence"),
            (
                (OID_POLICY_CONSTRAINTS, false, seq(&[tlv(0x80, &[0xff])])),
                "policyConstraints is not valid DER",
            ),
            (
                (OID_INHIBIT_ANY_POLICY, false, tlv(0x02, &[0x80])),
                "inhibitAnyPolicy is not valid DER",
            ),
            (
                (OID_INHIBIT_ANY_POLICY, false, tlv(0x04, &[1])),
                "inhibitAnyPolicy is not valid DER",
            ),
        ];
        for (ext, needle) in cases {
            let with_policies = ext.0 != OID_CERTIFICATE_POLICIES;
            let mut exts = vec![ext];
            if with_policies {
                exts.push(policies(&[P1]));
            }
            let path = [cert("Bad CA", "Root", &exts), cert("EE", "Bad CA", &[policies(&[P1])])];
            let why = invalid_reason(run(&PolicyInputs::default(), &path));
            assert!(why.contains("'CN=Bad CA'") && why.contains(needle), "{needle}: {why}");
        }
    }

    #[test]
    fn qualifiers_of_any_kind_are_accepted_when_well_formed() {
        let cps = seq(&[oid("1.3.6.1.5.5.7.2.1"), tlv(0x16, b"https://example.invalid/cps")]);
        let odd = seq(&[oid("1.3.6.1.4.1.55555.99"), tlv(0x30, &tlv(0x01, &[0xff]))]);
        let value = seq(&[seq(&[oid(P1), seq(&[cps, odd])])]);
        let path = [
            cert("CA", "Root", &[(OID_CERTIFICATE_POLICIES, true, value)]),
            cert("EE", "CA", &[policies(&[P1])]),
        ];
        assert_eq!(
            run(&PolicyInputs::default(), &path)
                .expect("valid")
                .user_constrained_policy_set,
            set(&[P1])
        );
    }

    #[test]
    fn huge_skip_counts_saturate_instead_of_failing() {
        let mut big = vec![0x01];
        big.extend([0u8; 20]);
        let path = [
            cert(
                "CA",
                "Root",
                &[policies(&[P1]), (OID_INHIBIT_ANY_POLICY, true, tlv(0x02, &big))],
            ),
            cert("EE", "CA", &[policies(&[P1])]),
        ];
        assert_eq!(
            run(&PolicyInputs::default(), &path)
                .expect("valid")
                .user_constrained_policy_set,
            set(&[P1])
        );
    }

    #[test]
    fn misuse_is_reported_as_bad_input() {
        let bad = user(&["not.an.oid"]);
        assert!(matches!(PolicyState::new(&bad, 1), Err(PolicyError::BadInput(_))));
        assert!(matches!(PolicyState::new(&user(&[]), 1), Err(PolicyError::BadInput(_))));
        let c = cert("EE", "Root", &[policies(&[P1])]);
        let mut st = PolicyState::new(&PolicyInputs::default(), 1).expect("inputs");
        st.process_certificate(&c).expect("one certificate");
        assert!(matches!(st.process_certificate(&c), Err(PolicyError::BadInput(_))));
        let st = PolicyState::new(&PolicyInputs::default(), 2).expect("inputs");
        assert!(matches!(st.finish(), Err(PolicyError::BadInput(_))));
    }

    #[test]
    fn graph_is_pruned_to_paths_reaching_the_end() {
        // P2 at the CA has no continuation; the output must not mention it.
        let path = [
            cert("CA", "Root", &[policies(&[P1, P2])]),
            cert("EE", "CA", &[policies(&[P1, P3])]),
        ];
        let out = run(&PolicyInputs::default(), &path).expect("valid");
        assert_eq!(out.user_constrained_policy_set, set(&[P1]));
    }
}
