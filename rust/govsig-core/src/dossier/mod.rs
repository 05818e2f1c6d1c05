//! Dossiers: parallel hashing, canonical manifest, BagIt, Merkle tree and proofs.
