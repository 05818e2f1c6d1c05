//! BER -> DER normalisation, bounded in depth and output size.
