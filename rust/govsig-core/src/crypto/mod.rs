//! Signature algorithms: one table keyed by the exact DER of AlgorithmIdentifier.
