//! Certificate policy processing (RFC 5280 §6.1 policy clauses, RFC 9618 graph) judged by
//! NIST PKITS 2011 and by hand-made chains generated with the OpenSSL CLI.

use std::collections::BTreeSet;
use std::path::PathBuf;

use govsig_core::x509::policy_graph::{PolicyError, PolicyInputs, PolicyOutput, PolicyState};
use govsig_core::x509::Certificate;
use serde_json::Value;

mod common;
use common::conformance_dir;

struct Pkits {
    dir: PathBuf,
    doc: Value,
}

fn pkits() -> Pkits {
    let dir = conformance_dir().join("pkits");
    let text = std::fs::read_to_string(dir.join("cases.json"))
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.join("cases.json").display()));
    let doc: Value = serde_json::from_str(&text).expect("cases.json is JSON");
    Pkits { dir, doc }
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

impl Pkits {
    fn cases(&self, key: &str) -> Vec<Value> {
        self.doc[key]
            .as_array()
            .unwrap_or_else(|| panic!("cases.json has no '{key}' array"))
            .clone()
    }

    /// The case's policy inputs, falling back to the top-level defaults field by field.
    fn inputs(&self, case: &Value) -> PolicyInputs {
        let defaults = &self.doc["defaults"]["inputs"];
        let pick = |k: &str| -> Value {
            let v = &case["inputs"][k];
            if v.is_null() {
                defaults[k].clone()
            } else {
                v.clone()
            }
        };
        let flag = |k: &str| {
            pick(k)
                .as_bool()
                .unwrap_or_else(|| panic!("{}: input {k} is not a bool", case["id"]))
        };
        PolicyInputs {
            user_initial_policy_set: str_list(&pick("user_initial_policy_set")),
            initial_explicit_policy: flag("initial_explicit_policy"),
            initial_policy_mapping_inhibit: flag("initial_policy_mapping_inhibit"),
            initial_any_policy_inhibit: flag("initial_any_policy_inhibit"),
            ..PolicyInputs::default()
        }
    }

    /// Certificates 1..n of the path (the trust anchor, path[0], is not processed).
    fn path(&self, case: &Value) -> Result<Vec<Certificate>, String> {
        let names = str_list(&case["path"]);
        assert!(
            names.len() >= 2,
            "{}: path has no certificate below the anchor",
            case["id"]
        );
        names
            .iter()
            .skip(1)
            .map(|n| {
                let der = std::fs::read(self.dir.join(n)).unwrap_or_else(|e| panic!("cannot read {n}: {e}"));
                Certificate::from_der(&der).map_err(|e| format!("{n}: {e}"))
            })
            .collect()
    }
}

fn run_policy(inputs: &PolicyInputs, path: &[Certificate]) -> Result<PolicyOutput, PolicyError> {
    let mut st = PolicyState::new(inputs, path.len())?;
    for c in path {
        st.process_certificate(c)?;
    }
    st.finish()
}

fn has_policy_feature(case: &Value) -> bool {
    str_list(&case["features"])
        .iter()
        .any(|f| f == "policy" || f == "policy-mapping")
}

fn as_set(v: &[String]) -> BTreeSet<String> {
    v.iter().cloned().collect()
}

#[test]
fn pkits_policy_cases_match_expected_results() {
    let p = pkits();
    let cases: Vec<Value> = p.cases("cases").into_iter().filter(has_policy_feature).collect();
    assert!(
        cases.len() >= 88,
        "expected the PKITS policy cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    let mut sets_checked = 0usize;
    for case in &cases {
        let id = case["id"].as_str().unwrap_or("?").to_string();
        let expected = case["expected"]["result"].as_str().unwrap_or("?");
        let path = p
            .path(case)
            .unwrap_or_else(|e| panic!("{id}: policy case with an unparsable certificate: {e}"));
        let result = run_policy(&p.inputs(case), &path);
        match (&result, expected) {
            (Ok(out), "valid") => {
                if let Some(want) = case["expected"].get("user_constrained_policy_set") {
                    sets_checked += 1;
                    let want = as_set(&str_list(want));
                    let got = as_set(&out.user_constrained_policy_set);
                    if want != got {
                        failures.push(format!("{id}: user_constrained_policy_set {got:?}, expected {want:?}"));
                    }
                }
            }
            (Err(PolicyError::Invalid(_)), "invalid") => {}
            (Ok(out), _) => failures.push(format!(
                "{id}: expected {expected}, policy processing accepted: {out:?}"
            )),
            (Err(e), _) => failures.push(format!("{id}: expected {expected}, policy processing said: {e:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} PKITS policy cases disagree:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(
        sets_checked > 40,
        "too few user_constrained_policy_set checks: {sets_checked}"
    );
}

#[test]
fn pkits_no_valid_case_fails_the_policy_dimension() {
    let p = pkits();
    let cases = p.cases("cases");
    assert_eq!(cases.len(), 249, "cases.json should hold the 249 PKITS runs");
    let mut valid = 0usize;
    let mut failures = Vec::new();
    for case in &cases {
        if case["expected"]["result"].as_str() != Some("valid") {
            continue;
        }
        valid += 1;
        let id = case["id"].as_str().unwrap_or("?");
        let path = match p.path(case) {
            Ok(path) => path,
            Err(e) => {
                failures.push(format!("{id}: expected valid but a certificate does not parse: {e}"));
                continue;
            }
        };
        match run_policy(&p.inputs(case), &path) {
            Ok(out) => {
                if let Some(want) = case["expected"].get("user_constrained_policy_set") {
                    let want = as_set(&str_list(want));
                    let got = as_set(&out.user_constrained_policy_set);
                    if want != got {
                        failures.push(format!("{id}: user_constrained_policy_set {got:?}, expected {want:?}"));
                    }
                }
            }
            Err(e) => failures.push(format!("{id}: expected valid, policy processing said: {e}")),
        }
    }
    assert_eq!(valid, 114, "cases.json should hold 114 valid runs");
    assert!(failures.is_empty(), "false rejects:\n{}", failures.join("\n"));
}

/// The 8 supplementary runs (from pyhanko-certvalidator, not PKITS.pdf) follow the bare
/// RFC 5280 §6.1.5 success rule: a path with an empty user-constrained set is valid unless an
/// explicit policy is required. With `require_acceptable_policy: false` every one must agree;
/// with the default (PKITS's reading) exactly the run built to show the difference flips.
#[test]
fn supplementary_runs_follow_the_bare_rfc_rule_when_asked() {
    let p = pkits();
    let cases = p.cases("supplementary_cases");
    assert_eq!(cases.len(), 8);
    let mut failures = Vec::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap_or("?");
        let expected = case["expected"]["result"].as_str().unwrap_or("?");
        let path = p.path(case).unwrap_or_else(|e| panic!("{id}: {e}"));
        let lax = PolicyInputs {
            require_acceptable_policy: false,
            ..p.inputs(case)
        };
        let ok = run_policy(&lax, &path).is_ok();
        if ok != (expected == "valid") {
            failures.push(format!(
                "{id}: expected {expected}, RFC 5280 rule said {}",
                if ok { "valid" } else { "invalid" }
            ));
        }
        let strict = run_policy(&p.inputs(case), &path);
        if id.ends_with("with_constraint_mismatch_ignored") {
            match strict {
                Err(PolicyError::Invalid(why)) => assert!(why.contains("acceptable policies"), "{why}"),
                other => failures.push(format!(
                    "{id}: the default should reject an unmet user policy set: {other:?}"
                )),
            }
        } else if strict.is_ok() != (expected == "valid") {
            failures.push(format!("{id}: expected {expected}, default rule said {strict:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
