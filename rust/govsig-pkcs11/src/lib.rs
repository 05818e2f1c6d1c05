//! PKCS#11 signing through cryptoki: tokens, sessions, keys, mechanisms.
