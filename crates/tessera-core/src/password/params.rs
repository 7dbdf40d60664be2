//! Argon2id cost parameters: their bounds, and how a stored PHC hash is read back to
//! verify it and to tell whether it was made with other parameters (and must be rehashed).

use crate::password_hash::PasswordHash;
use argon2::password_hash::phc;
use argon2::{Algorithm, Version};
use serde::{Deserialize, Serialize};

/// The smallest memory accepted: 7 MiB, OWASP's weakest recommended Argon2id setting
/// (m=7168 KiB with t=5).
pub const MIN_MEMORY_KIB: u32 = 7 * 1024;
/// The largest memory accepted: 4 GiB per hash (each worker holds one such buffer).
pub const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
/// The most passes over memory accepted.
pub const MAX_ITERATIONS: u32 = 64;
/// The most lanes accepted. Lanes are computed one after the other (argon2 is built without
/// its `parallel` feature), so more lanes change the hash but do not make it faster.
pub const MAX_PARALLELISM: u32 = 16;
/// The least `memory_kib × iterations`: every OWASP Argon2id setting (m=47104 t=1,
/// m=19456 t=2, m=12288 t=3, m=9216 t=4, m=7168 t=5) reaches it.
pub const MIN_MEMORY_TIMES_ITERATIONS: u64 = 7168 * 5;

/// The output length of the hashes Tessera makes, in bytes.
pub(crate) const OUTPUT_LEN: usize = 32;
/// The salt length of the hashes Tessera makes, in bytes.
pub(crate) const SALT_LEN: usize = 16;

/// The Argon2id parameters new password hashes are made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Argon2Params {
    /// Memory per hash in KiB (`m`).
    pub memory_kib: u32,
    /// Passes over that memory (`t`).
    pub iterations: u32,
    /// Lanes (`p`).
    pub parallelism: u32,
}

/// Why Argon2 parameters are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidParams {
    /// One parameter is outside the range Tessera accepts.
    #[error("argon2 {field} must be between {min} and {max} (got {value})")]
    OutOfRange {
        field: &'static str,
        value: u32,
        min: u32,
        max: u32,
    },
    /// Memory and passes together cost less than OWASP's weakest recommendation.
    #[error(
        "argon2 memory_kib × iterations must be at least {min} (got {value}); raise iterations or memory_kib"
    )]
    TooWeak { value: u64, min: u64 },
}

impl Default for Argon2Params {
    /// OWASP's recommendation: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        Self::OWASP
    }
}

impl Argon2Params {
    /// OWASP Password Storage Cheat Sheet: m=19456 KiB, t=2, p=1.
    pub const OWASP: Self = Self {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// Checks the parameters against Tessera's bounds: memory 7 MiB..=4 GiB, iterations
    /// 1..=64, parallelism 1..=16, and memory × iterations at least 35,840 (OWASP's floor).
    pub fn validate(&self) -> Result<(), InvalidParams> {
        check_range(
            "memory_kib",
            self.memory_kib,
            MIN_MEMORY_KIB,
            MAX_MEMORY_KIB,
        )?;
        check_range("iterations", self.iterations, 1, MAX_ITERATIONS)?;
        check_range("parallelism", self.parallelism, 1, MAX_PARALLELISM)?;
        let cost = u64::from(self.memory_kib) * u64::from(self.iterations);
        if cost < MIN_MEMORY_TIMES_ITERATIONS {
            return Err(InvalidParams::TooWeak {
                value: cost,
                min: MIN_MEMORY_TIMES_ITERATIONS,
            });
        }
        Ok(())
    }

    /// Whether `stored` must be replaced by a new hash made with these parameters: true when
    /// it is not Argon2id version 0x13 with exactly these `m`, `t`, `p`, a 32-byte output, a
    /// salt of at least 16 bytes and no key id or associated data — or when it cannot be read.
    pub fn needs_rehash(&self, stored: &PasswordHash) -> bool {
        StoredHash::decode(stored).map_or(true, |decoded| decoded.needs_rehash(self))
    }

    /// These parameters for the argon2 crate, with Tessera's output length.
    pub(crate) fn to_argon2(self) -> Result<argon2::Params, argon2::Error> {
        argon2::Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(OUTPUT_LEN),
        )
    }
}

fn check_range(field: &'static str, value: u32, min: u32, max: u32) -> Result<(), InvalidParams> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(InvalidParams::OutOfRange {
            field,
            value,
            min,
            max,
        })
    }
}

/// A stored PHC string decoded into what the verifier needs.
pub(crate) struct StoredHash {
    pub(crate) algorithm: Algorithm,
    pub(crate) version: Version,
    pub(crate) params: argon2::Params,
    pub(crate) salt: phc::Salt,
    pub(crate) expected: phc::Output,
}

impl StoredHash {
    /// Reads a stored hash. A PHC string without `v=` is version 0x10, as in the reference
    /// implementation. Hashes costing more than Tessera's parameter bounds are refused, so
    /// that an imported hash cannot tie up a worker or its memory.
    pub(crate) fn decode(stored: &PasswordHash) -> Result<Self, &'static str> {
        let parsed = phc::PasswordHash::new(stored.as_phc()).map_err(|_| "not a PHC string")?;
        let algorithm =
            Algorithm::new(parsed.algorithm.as_str()).map_err(|_| "not an Argon2 algorithm")?;
        let version = Version::try_from(parsed.version.unwrap_or(0x10))
            .map_err(|_| "unknown Argon2 version")?;
        let params = argon2::Params::try_from(&parsed).map_err(|_| "invalid Argon2 parameters")?;
        if params.m_cost() > MAX_MEMORY_KIB
            || params.t_cost() > MAX_ITERATIONS
            || params.p_cost() > MAX_PARALLELISM
        {
            return Err("Argon2 parameters above Tessera's limits");
        }
        let salt = parsed.salt.ok_or("no salt")?;
        let expected = parsed.hash.ok_or("no hash output")?;
        Ok(Self {
            algorithm,
            version,
            params,
            salt,
            expected,
        })
    }

    pub(crate) fn needs_rehash(&self, wanted: &Argon2Params) -> bool {
        self.algorithm != Algorithm::Argon2id
            || self.version != Version::V0x13
            || self.params.m_cost() != wanted.memory_kib
            || self.params.t_cost() != wanted.iterations
            || self.params.p_cost() != wanted.parallelism
            || !self.params.keyid().is_empty()
            || !self.params.data().is_empty()
            || self.expected.len() != OUTPUT_LEN
            || self.salt.len() < SALT_LEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(phc: &str) -> PasswordHash {
        PasswordHash::parse(phc).unwrap()
    }

    const OWASP_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObGRdescudvJCs";

    #[test]
    fn default_is_owasp_and_valid() {
        let params = Argon2Params::default();
        assert_eq!(
            (params.memory_kib, params.iterations, params.parallelism),
            (19456, 2, 1)
        );
        assert_eq!(params.validate(), Ok(()));
    }

    #[test]
    fn every_owasp_setting_is_valid() {
        for (memory_kib, iterations) in [(47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5)] {
            let params = Argon2Params {
                memory_kib,
                iterations,
                parallelism: 1,
            };
            assert_eq!(params.validate(), Ok(()), "{params:?}");
        }
    }

    #[test]
    fn validate_names_the_field() {
        let base = Argon2Params::default();
        let cases = [
            (
                Argon2Params {
                    memory_kib: 64,
                    ..base
                },
                "memory_kib",
            ),
            (
                Argon2Params {
                    memory_kib: MAX_MEMORY_KIB + 1,
                    ..base
                },
                "memory_kib",
            ),
            (
                Argon2Params {
                    iterations: 0,
                    ..base
                },
                "iterations",
            ),
            (
                Argon2Params {
                    parallelism: 0,
                    ..base
                },
                "parallelism",
            ),
            (
                Argon2Params {
                    parallelism: 17,
                    ..base
                },
                "parallelism",
            ),
        ];
        for (params, field) in cases {
            let error = params.validate().unwrap_err();
            assert!(
                matches!(error, InvalidParams::OutOfRange { field: f, .. } if f == field),
                "{params:?}: {error}"
            );
            assert!(error.to_string().contains(field));
        }
        let weak = Argon2Params {
            memory_kib: 19456,
            iterations: 1,
            parallelism: 1,
        };
        assert!(matches!(
            weak.validate(),
            Err(InvalidParams::TooWeak { value: 19456, .. })
        ));
    }

    #[test]
    fn same_params_need_no_rehash() {
        assert!(!Argon2Params::default().needs_rehash(&hash(OWASP_HASH)));
    }

    #[test]
    fn other_params_algorithms_or_versions_need_rehash() {
        let params = Argon2Params::default();
        for stored in [
            "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObGRdescudvJCs",
            "$argon2id$v=19$m=19456,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObGRdescudvJCs",
            "$argon2id$v=19$m=19456,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObGRdescudvJCs",
            "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObGRdescudvJCs",
            "$argon2d$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObGRdescudvJCs",
            "$argon2id$v=16$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObGRdescudvJCs",
            "$argon2id$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObGRdescudvJCs",
            // 8-byte salt, 16-byte output
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWQ",
        ] {
            assert!(params.needs_rehash(&hash(stored)), "{stored}");
        }
    }

    #[test]
    fn unreadable_or_too_costly_hashes_are_refused() {
        for stored in [
            // output shorter than the 10 bytes PHC allows
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AAAA",
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA",
            "$argon2id$v=19$m=19456,t=2,p=1,x=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
            "$argon2id$v=99$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
            "$argon2id$v=19$m=8388608,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
            "$argon2id$v=19$m=19456,t=1000,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        ] {
            let stored = hash(stored);
            assert!(StoredHash::decode(&stored).is_err(), "{stored:?}");
            assert!(Argon2Params::default().needs_rehash(&stored));
        }
    }
}
