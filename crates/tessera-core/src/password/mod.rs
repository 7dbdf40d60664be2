//! Passwords: Argon2id hashing on a bounded pool, and the password policy.
//!
//! [`PasswordHasher`] runs Argon2id on dedicated threads that each reuse their own Argon2
//! memory, behind a bounded queue that answers [`PasswordError::Busy`] at once when full; it
//! verifies unknown users against a dummy hash of the same cost and hands back a fresh hash
//! when a stored one was made with other parameters. [`PasswordPolicy`] is the synchronous
//! check of a new password: length (15 alone, 8 with MFA, up to 256, any Unicode), the
//! common-password blocklist, and the user's own email and names.
//!
//! The blocklist (`common-passwords.txt`) is the password list of zxcvbn as shipped in the
//! npm package `@zxcvbn-ts/language-common` 4.1.3, MIT-licensed (© 2012-2016 Dan Wheeler and
//! Dropbox, Inc.; © 2021 zxcvbn-ts); the file's header carries the licence text.

pub mod blocklist;
mod params;
mod policy;
mod pool;
mod worker;

pub use params::{
    Argon2Params, InvalidParams, MAX_ITERATIONS, MAX_MEMORY_KIB, MAX_PARALLELISM, MIN_MEMORY_KIB,
    MIN_MEMORY_TIMES_ITERATIONS,
};
pub use policy::{
    InvalidPolicy, MAX_ALLOWED_LENGTH, MIN_ALLOWED_LENGTH, PasswordPolicy, PolicyContext,
    PolicyViolation,
};
pub use pool::{
    HasherMetrics, MAX_PASSWORD_BYTES, PasswordError, PasswordHasher, Verification, default_workers,
};
