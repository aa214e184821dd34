use thiserror::Error;

/// Everything that can go wrong while decoding or checking protocol values.
#[derive(Debug, Error)]
pub enum Error {
    /// A hex value was not valid hex or had the wrong length.
    #[error("invalid hex value: {0}")]
    Hex(String),
    /// A JSON number cannot be represented as an IEEE-754 double (RFC 8785 needs one).
    #[error("number {0} cannot be represented in canonical JSON")]
    Number(String),
    /// A secret key was malformed.
    #[error("invalid secret key: {0}")]
    Key(String),
    /// A signature was malformed or did not recover to a public key.
    #[error("invalid signature: {0}")]
    Signature(String),
    /// A message could not be decoded.
    #[error("malformed message: {0}")]
    Decode(String),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
