//! govsig-core: the pure-Rust heart of govsig. No Python types ever appear here, so every
//! piece can be unit tested with `cargo test`, fuzzed, and run on many threads.
#![forbid(unsafe_code)]

pub mod crypto;
pub mod dossier;
