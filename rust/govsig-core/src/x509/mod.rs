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

/// Parses and interns certificates, so a certificate shared by many documents of a batch is
/// parsed once.
///
/// The lookup key is the DER's length and its last 32 bytes: the end of the signature value,
/// which differs between any two certificates a CA signed. Hashing the whole certificate
/// (SHA-256, its fingerprint) for every one a document carries cost more than a microsecond a
/// document; the tail costs nothing, and a hit is confirmed by comparing the whole DER, so a
/// certificate crafted to share another's tail is never taken for it. Such a certificate
/// (only a forger makes one) is interned beside it by its fingerprint.
#[derive(Default)]
pub struct CertInterner {
    map: std::sync::RwLock<Interned>,
    limit: usize,
}

#[derive(Default)]
struct Interned {
    by_tail: HashMap<TailKey, CertRef>,
    /// Certificates whose tail key was taken by another certificate, by fingerprint.
    by_fingerprint: HashMap<[u8; 32], CertRef>,
}

impl Interned {
    fn len(&self) -> usize {
        self.by_tail.len() + self.by_fingerprint.len()
    }

    fn get(&self, key: &TailKey, der: &[u8]) -> Option<&CertRef> {
        match self.by_tail.get(key) {
            Some(c) if c.der() == der => Some(c),
            // Only a tail collision reaches the fingerprint map (it is nearly always empty).
            Some(_) if !self.by_fingerprint.is_empty() => self.by_fingerprint.get(&cert::fingerprint(der)),
            _ => None,
        }
    }
}

/// The DER's length and last 32 bytes (the whole DER when shorter).
type TailKey = (usize, [u8; 32]);

fn tail_key(der: &[u8]) -> TailKey {
    let mut tail = [0u8; 32];
    let t = &der[der.len().saturating_sub(32)..];
    tail[..t.len()].copy_from_slice(t);
    (der.len(), tail)
}

impl CertInterner {
    pub fn with_limit(limit: usize) -> Self {
        CertInterner {
            map: Default::default(),
            limit,
        }
    }

    pub fn get_or_parse(&self, der: &[u8]) -> Result<CertRef, cert::CertError> {
        let key = tail_key(der);
        if let Ok(m) = self.map.read() {
            if let Some(c) = m.get(&key, der) {
                return Ok(Arc::clone(c));
            }
        }
        let c = Arc::new(Certificate::from_der(der)?);
        if let Ok(mut m) = self.map.write() {
            // Memory stays bounded on archives with millions of distinct signers.
            if self.limit > 0 && m.len() >= self.limit {
                m.by_tail.clear();
                m.by_fingerprint.clear();
            }
            match m.by_tail.entry(key) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(Arc::clone(&c));
                }
                // Another thread interned the same certificate meanwhile.
                std::collections::hash_map::Entry::Occupied(o) if o.get().der() == der => {}
                std::collections::hash_map::Entry::Occupied(_) => {
                    m.by_fingerprint.insert(c.fingerprint, Arc::clone(&c));
                }
            }
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
