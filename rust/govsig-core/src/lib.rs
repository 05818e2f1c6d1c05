//! govsig-core: the pure-Rust heart of govsig. No Python types ever appear here, so every
//! piece can be unit tested with `cargo test`, fuzzed, and run on many threads.
//!
//! # Where the trust decision starts, and the order to read the modules
//!
//! 1. [`batch::Engine`]: one per verifier. It holds the [`policy::Policy`], the trust anchors
//!    and the caches shared across documents (interned certificates, verified chain edges,
//!    validated paths), and runs batches on a rayon pool. `Engine::verify` is the entry point.
//! 2. [`cms::verify::verify_document`]: the decision for one document, in the steps of the
//!    design (parse, find each signer's certificate, signed attributes, the signature), calling
//!    back into the engine (a `TrustContext`) for the path.
//! 3. [`x509::path`]: path building (ranked candidates, backtracking, a budget) and RFC 5280
//!    §6.1 validation clause by clause; [`x509::name_constraints`] and
//!    [`x509::policy_graph`] (the RFC 9618 policy graph) are its two heavy clauses.
//! 4. [`revocation`]: CRLs (parse, index, scope, delta) and OCSP (requests, responses,
//!    responder authority), and the status of each certificate on a path.
//! 5. [`outcome`]: the one catalogue of result codes every verdict ends in.
//!
//! Beside the decision: [`crypto`] (the algorithm table keyed by AlgorithmIdentifier DER,
//! parsed keys, digests, the DER writer), [`cms::sign`] (creating SignedData), [`dossier`]
//! (walking and hashing folders, BagIt, RFC 9162 Merkle proofs), [`time`], [`tsp`] (RFC 3161
//! time-stamp tokens, requests and responses; adding tokens to a CMS is [`cms::unsigned`]).
#![forbid(unsafe_code)]

pub mod batch;
pub mod cms;
pub mod crypto;
pub mod dossier;
pub mod evidence;
pub mod need;
mod oidtext;
pub mod outcome;
pub mod pdf;
pub mod policy;
pub mod report;
pub mod revocation;
pub mod threads;
pub mod time;
pub mod tsp;
pub mod warning;
pub mod x509;

pub use batch::Engine;
pub use outcome::Code;
pub use policy::Policy;
