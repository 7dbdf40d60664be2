//! Password hashes handed to Tessera from elsewhere (the admin API, later imports), kept as
//! PHC strings. Verification and Argon2id hashing live in `crate::password`; here the string
//! is only checked for shape so that nothing unusable is stored.

use std::fmt;

/// Algorithms whose PHC strings we accept today.
const ACCEPTED_ALGORITHMS: &[&str] = &["argon2id", "argon2i", "argon2d"];
const MAX_LEN: usize = 512;

/// Why a string is not a password hash we can store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordHashError {
    /// Not of the form `$alg$[v=..$]params$salt$hash`.
    #[error(
        "the password hash must be a PHC string such as '$argon2id$v=19$m=19456,t=2,p=1$salt$hash'"
    )]
    NotPhc,
    /// A PHC string of an algorithm Tessera does not verify.
    #[error("unsupported password hash algorithm '{0}' (supported: argon2id, argon2i, argon2d)")]
    UnsupportedAlgorithm(String),
}

/// A password hash in PHC string format. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn parse(input: &str) -> Result<Self, PasswordHashError> {
        if input.len() > MAX_LEN || !input.is_ascii() {
            return Err(PasswordHashError::NotPhc);
        }
        let fields: Vec<&str> = input.split('$').collect();
        // "" , alg, [v=..], params, salt, hash
        let well_formed = fields.first() == Some(&"")
            && (fields.len() == 5 || fields.len() == 6)
            && fields[1..].iter().all(|field| !field.is_empty())
            && fields.iter().all(|field| {
                field
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"=,+/.-".contains(&b))
            });
        if !well_formed {
            return Err(PasswordHashError::NotPhc);
        }
        let algorithm = fields[1];
        if !ACCEPTED_ALGORITHMS.contains(&algorithm) {
            return Err(PasswordHashError::UnsupportedAlgorithm(
                algorithm.to_owned(),
            ));
        }
        Ok(Self(input.to_owned()))
    }

    /// The PHC string, for the store and the verifier only.
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";

    #[test]
    fn accepts_argon2_phc_strings() {
        let hash = PasswordHash::parse(SAMPLE).unwrap();
        assert_eq!(hash.as_phc(), SAMPLE);
        assert_eq!(format!("{hash:?}"), "PasswordHash(***)");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(input in "\\PC{0,600}") {
            let _ = PasswordHash::parse(&input);
        }
    }

    #[test]
    fn refuses_other_shapes() {
        assert_eq!(
            PasswordHash::parse("hunter2"),
            Err(PasswordHashError::NotPhc)
        );
        assert_eq!(
            PasswordHash::parse("$argon2id$$$"),
            Err(PasswordHashError::NotPhc)
        );
        assert_eq!(
            PasswordHash::parse("$md5$v=1$p=1$salt$hash"),
            Err(PasswordHashError::UnsupportedAlgorithm("md5".into()))
        );
    }
}
