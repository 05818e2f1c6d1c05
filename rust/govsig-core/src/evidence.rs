//! What decided a verdict, kept (issue 13 item 5): the certificates, CRLs and OCSP responses
//! behind a result, as DER, each once, in the order first met. Fed back to a verifier as
//! intermediates, CRLs and OCSP responses with the same anchors and validation time and no
//! fetcher, they reproduce the verdict offline.
//!
//! One collector for every kind of result (a CMS document, a signed PDF, a batch of either),
//! so that "what decided" means the same everywhere: the validated path of each signer (for a
//! revocation verdict, the path that was refused and the evidence that refused it), the CRLs
//! (complete and delta) and OCSP responses that decided each certificate's status, the paths
//! of indirect CRL signers and delegated OCSP responders with their own evidence, and each
//! valid time-stamp's TSA path and evidence; for an `algorithm_not_allowed` status, the CRLs,
//! OCSP responses and CRL-signer certificates the policy refused for their algorithm.
//! Evidence a document carried that decided nothing (a PDF's DSS stuffed with unrelated
//! certificates and CRLs) never appears: only what a path or a status names is collected.

use std::collections::HashSet;

use crate::cms::verify::{SignerOutcome, VerifyOutcome};
use crate::pdf::PdfOutcome;
use crate::revocation::RevocationEvidence;
use crate::x509::cert::CertRef;

/// DER evidence, each item once (by SHA-256 fingerprint), in the order first met.
#[derive(Default, Debug)]
pub struct EvidenceSet {
    seen: HashSet<[u8; 32]>,
    certificates: Vec<Vec<u8>>,
    crls: Vec<Vec<u8>>,
    ocsp_responses: Vec<Vec<u8>>,
}

impl EvidenceSet {
    /// The certificates of every path that decided (DER).
    pub fn certificates(&self) -> &[Vec<u8>] {
        &self.certificates
    }

    /// The complete and delta CRLs that decided a status (DER).
    pub fn crls(&self) -> &[Vec<u8>] {
        &self.crls
    }

    /// The OCSP responses that decided a status (DER).
    pub fn ocsp_responses(&self) -> &[Vec<u8>] {
        &self.ocsp_responses
    }

    fn add(seen: &mut HashSet<[u8; 32]>, to: &mut Vec<Vec<u8>>, fp: [u8; 32], der: &[u8]) {
        if seen.insert(fp) {
            to.push(der.to_vec());
        }
    }

    /// A path and the revocation evidence of its certificates.
    pub fn add_path(&mut self, chain: &[CertRef], revocation: &[RevocationEvidence]) {
        for c in chain {
            Self::add(&mut self.seen, &mut self.certificates, c.fingerprint, c.der());
        }
        for e in revocation {
            for crl in e.crl.iter().chain(e.delta.iter()) {
                Self::add(&mut self.seen, &mut self.crls, crl.fingerprint(), crl.der());
            }
            // An indirect CRL's signer and a delegated OCSP responder decided too: their
            // paths and their own revocation evidence (nesting bounded by the core).
            if let Some(p) = &e.crl_signer_path {
                self.add_path(&p.chain(), &p.revocation);
            }
            // An `algorithm_not_allowed` status: what the policy refused decided it.
            let refused = &e.refused_for_algorithm;
            for c in &refused.certificates {
                Self::add(&mut self.seen, &mut self.certificates, c.fingerprint, c.der());
            }
            for crl in &refused.crls {
                Self::add(&mut self.seen, &mut self.crls, crl.fingerprint(), crl.der());
            }
            for r in &refused.ocsp {
                Self::add(&mut self.seen, &mut self.ocsp_responses, r.fingerprint, &r.der);
            }
            if let Some(o) = &e.ocsp {
                Self::add(
                    &mut self.seen,
                    &mut self.ocsp_responses,
                    o.response_fingerprint,
                    &o.response_der,
                );
                if let Some(p) = &o.responder_path {
                    self.add_path(&p.chain(), &p.revocation);
                }
            }
        }
    }

    /// A signer's path and evidence, its valid time-stamps' (signature and content), and
    /// its countersigners', recursively (the depth is bounded by the core).
    pub fn add_signer(&mut self, s: &SignerOutcome) {
        self.add_path(&s.chain, &s.revocation);
        if let Some(d) = &s.decided_by.0 {
            self.add_path(&d.0, &d.1);
        }
        for t in s.timestamps.iter().filter(|t| t.ok()) {
            self.add_path(&t.chain, &t.revocation);
        }
        for c in &s.countersigners {
            self.add_signer(c);
        }
    }

    /// Every signer of a CMS document.
    pub fn add_outcome(&mut self, o: &VerifyOutcome) {
        for s in &o.signers {
            self.add_signer(s);
        }
    }

    /// Every signature of a PDF, document time-stamps included (their TSA is the signer of
    /// their CMS verdict). The DSS is evidence only where a path or a status used it.
    pub fn add_pdf(&mut self, o: &PdfOutcome) {
        for s in &o.signatures {
            self.add_outcome(&s.cms);
        }
    }
}
