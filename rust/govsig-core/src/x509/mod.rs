//! Certificates, names, trust anchors and path building/validation (RFC 5280).

pub mod cert;
pub mod identifiers;
pub mod name;
pub mod name_constraints;
pub mod path;
pub mod policy_graph;
pub mod profile;

pub use cert::{CertRef, Certificate};
pub use name::Name;

use std::collections::HashMap;
use std::sync::Arc;

/// Trust anchors. RFC 5280 §6.1.1(d): an anchor is a name and a key; it need not be
/// self-signed. Its own validity, nameConstraints and critical extensions apply as RFC 5937
/// says unless the policy's `anchor_constraints` is off (`path::check_anchor`).
#[derive(Clone, Default)]
pub struct TrustStore {
    anchors: Vec<CertRef>,
    by_subject: HashMap<Vec<u8>, Vec<usize>>,
}

impl TrustStore {
    pub fn new(anchors: Vec<CertRef>) -> TrustStore {
        let mut ts = TrustStore::default();
        for a in anchors {
            if ts.anchors.iter().any(|x| x.fingerprint == a.fingerprint) {
                continue;
            }
            ts.by_subject
                .entry(a.subject.key().to_vec())
                .or_default()
                .push(ts.anchors.len());
            ts.anchors.push(a);
        }
        ts
    }

    pub fn anchors(&self) -> &[CertRef] {
        &self.anchors
    }

    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Anchors whose name matches `cert`'s issuer.
    pub fn issuers_of(&self, cert: &cert::Certificate) -> Vec<&CertRef> {
        self.by_subject
            .get(cert.issuer.key())
            .map(|ix| ix.iter().filter_map(|&i| self.anchors.get(i)).collect())
            .unwrap_or_default()
    }

    pub fn contains(&self, fingerprint: &[u8; 32]) -> bool {
        self.anchors.iter().any(|a| &a.fingerprint == fingerprint)
    }
}

/// Untrusted certificates available for path building, indexed by subject.
#[derive(Clone, Default)]
pub struct CertPool {
    certs: Vec<CertRef>,
    by_subject: HashMap<Vec<u8>, Vec<usize>>,
}

impl CertPool {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, c: CertRef) {
        if self.certs.iter().any(|x| x.fingerprint == c.fingerprint) {
            return;
        }
        self.by_subject
            .entry(c.subject.key().to_vec())
            .or_default()
            .push(self.certs.len());
        self.certs.push(c);
    }

    pub fn certs(&self) -> &[CertRef] {
        &self.certs
    }

    pub fn issuers_of(&self, cert: &cert::Certificate) -> Vec<&CertRef> {
        self.by_subject
            .get(cert.issuer.key())
            .map(|ix| ix.iter().filter_map(|&i| self.certs.get(i)).collect())
            .unwrap_or_default()
    }
}

/// Parses and interns certificates by fingerprint, so a certificate shared by many
/// documents of a batch is parsed once.
#[derive(Default)]
pub struct CertInterner {
    map: std::sync::RwLock<HashMap<[u8; 32], CertRef>>,
    limit: usize,
}

impl CertInterner {
    pub fn with_limit(limit: usize) -> Self {
        CertInterner {
            map: Default::default(),
            limit,
        }
    }

    pub fn get_or_parse(&self, der: &[u8]) -> Result<CertRef, cert::CertError> {
        let fp = cert::fingerprint(der);
        if let Ok(m) = self.map.read() {
            if let Some(c) = m.get(&fp) {
                return Ok(Arc::clone(c));
            }
        }
        let c = Arc::new(Certificate::from_der(der)?);
        if let Ok(mut m) = self.map.write() {
            // Memory stays bounded on archives with millions of distinct signers.
            if self.limit > 0 && m.len() >= self.limit {
                m.clear();
            }
            m.insert(fp, Arc::clone(&c));
        }
        Ok(c)
    }

    pub fn len(&self) -> usize {
        self.map.read().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
