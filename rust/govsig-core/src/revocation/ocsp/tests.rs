//! Unit tests of OCSP parsing and requests.
