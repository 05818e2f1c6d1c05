//! govsig-core: the pure-Rust heart of govsig. No Python types ever appear here, so every
//! piece can be unit tested with `cargo test`, fuzzed, and run on many threads.
#![forbid(unsafe_code)]

pub mod batch;
pub mod cms;
pub mod crypto;
pub mod dossier;
mod oidtext;
pub mod outcome;
pub mod policy;
pub mod revocation;
pub mod threads;
pub mod time;
pub mod x509;

pub use batch::Engine;
pub use outcome::Code;
pub use policy::Policy;
