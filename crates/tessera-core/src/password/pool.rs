//! [`PasswordHasher`]: Argon2id on a bounded pool of dedicated OS threads, away from the
//! async runtime. Each worker allocates its Argon2 memory once and reuses it for every job
//! (see `worker.rs`). Jobs wait in a bounded queue; when it is full the caller is answered
//! [`PasswordError::Busy`] at once, so that a login flood becomes quick 503/429 answers
//! instead of a growing backlog.

use super::params::{Argon2Params, InvalidParams};
use super::worker::{Counters, Job, Worker, argon2_error, dummy_hash};
use crate::password_hash::PasswordHash;
use secrecy::{ExposeSecret, SecretString};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// The longest password the hasher takes, in UTF-8 bytes (the policy's longest maximum,
/// 1024 characters, always fits). Longer ones are refused before any work is queued.
pub const MAX_PASSWORD_BYTES: usize = 4096;

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// The password is right. `rehash` is a new Argon2id hash to store when the stored one
    /// was made with other parameters, another Argon2 variant or version.
    Match { rehash: Option<PasswordHash> },
    /// The password is wrong, or the account is unknown.
    Mismatch,
}

/// Why the hasher could not answer.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The queue is full; answered at once. The caller should answer 503 or 429.
    #[error("the password hasher is busy")]
    Busy,
    /// The workers have stopped.
    #[error("the password hasher has stopped")]
    Stopped,
    /// The Argon2 parameters are out of bounds.
    #[error(transparent)]
    InvalidParams(#[from] InvalidParams),
    /// `workers` or `queue` is zero.
    #[error("the password hasher needs at least one {0}")]
    InvalidPoolSize(&'static str),
    /// A worker thread could not be started.
    #[error("could not start a password hashing thread")]
    Spawn(#[source] std::io::Error),
    /// The Argon2 memory could not be allocated.
    #[error("could not allocate {0} KiB of Argon2 memory")]
    OutOfMemory(u32),
    /// The stored hash cannot be verified (it was refused as the given reason says); the
    /// password was not checked. Log it with the user id; the user cannot log in with a
    /// password until an administrator sets a new hash.
    #[error("the stored password hash cannot be verified: {0}")]
    UnusableHash(&'static str),
    /// A new password is longer than [`MAX_PASSWORD_BYTES`].
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes")]
    PasswordTooLong,
    /// Argon2 refused its inputs; a bug, since parameters and salts are checked first.
    #[error("argon2 failed: {0}")]
    Argon2(String),
}

impl PasswordError {
    /// A stable code for logs and error mapping.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Busy => "password_hasher_busy",
            Self::Stopped => "password_hasher_stopped",
            Self::InvalidParams(_) => "password_hasher_invalid_params",
            Self::InvalidPoolSize(_) => "password_hasher_invalid_pool_size",
            Self::Spawn(_) => "password_hasher_spawn_failed",
            Self::OutOfMemory(_) => "password_hasher_out_of_memory",
            Self::UnusableHash(_) => "password_hash_unusable",
            Self::PasswordTooLong => "password_too_long",
            Self::Argon2(_) => "password_hasher_internal",
        }
    }
}

/// Counters for metrics, read without locking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HasherMetrics {
    /// Jobs waiting for a worker.
    pub queue_depth: usize,
    /// Argon2 computations run since start (a verification that rehashes counts two).
    pub hashes_computed: u64,
    /// Requests answered [`PasswordError::Busy`] since start.
    pub busy_rejections: u64,
}

/// A handle on the hashing pool; clones share it. The worker threads (`argon2-0`,
/// `argon2-1`, …) finish the job they are on and stop once every clone is dropped.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    sender: SyncSender<Job>,
    counters: Arc<Counters>,
    params: Argon2Params,
    /// Verified against for unknown users: current parameters, random salt and output.
    dummy: PasswordHash,
}

impl PasswordHasher {
    /// Starts `workers` threads (see [`default_workers`]) and a queue of `queue` jobs.
    /// Each worker allocates `params.memory_kib` KiB now and keeps it.
    pub fn start(
        params: Argon2Params,
        workers: usize,
        queue: usize,
    ) -> Result<Self, PasswordError> {
        params.validate()?;
        let (hasher, _workers) = Self::launch(params, workers, queue)?;
        Ok(hasher)
    }

    /// Starts without checking `params` against Tessera's bounds (tests use tiny ones).
    fn launch(
        params: Argon2Params,
        workers: usize,
        queue: usize,
    ) -> Result<(Self, Vec<JoinHandle<()>>), PasswordError> {
        if workers == 0 {
            return Err(PasswordError::InvalidPoolSize("worker"));
        }
        if queue == 0 {
            return Err(PasswordError::InvalidPoolSize("queue slot"));
        }
        let argon2_params = params.to_argon2().map_err(argon2_error)?;
        let (sender, receiver) = mpsc::sync_channel(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        let counters = Arc::new(Counters::default());
        let mut handles = Vec::with_capacity(workers);
        for index in 0..workers {
            let worker = Worker {
                params,
                argon2_params: argon2_params.clone(),
                // Allocated at the first job (see `Worker::run`).
                memory: Vec::new(),
                counters: Arc::clone(&counters),
            };
            let receiver = Arc::clone(&receiver);
            let handle = std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || worker.run(&receiver))
                .map_err(PasswordError::Spawn)?;
            handles.push(handle);
        }
        let hasher = Self {
            inner: Arc::new(Inner {
                sender,
                counters,
                params,
                dummy: dummy_hash(&argon2_params)?,
            }),
        };
        Ok((hasher, handles))
    }

    /// Hashes a new password to an Argon2id PHC string with a fresh 16-byte salt.
    pub async fn hash(&self, password: SecretString) -> Result<PasswordHash, PasswordError> {
        if password.expose_secret().len() > MAX_PASSWORD_BYTES {
            return Err(PasswordError::PasswordTooLong);
        }
        let reply = self.submit(|reply| Job::Hash { password, reply })?;
        reply.await.map_err(|_| PasswordError::Stopped)?
    }

    /// Checks `password` against `stored`; with `None` (unknown user) it verifies against a
    /// dummy hash of the same cost so timing does not reveal whether the account exists, and
    /// returns `Mismatch`. (A known user whose hash has older parameters costs what those
    /// parameters cost, until the first login rehashes it.)
    ///
    /// On a match whose hash used other parameters (or argon2i/argon2d), returns a fresh
    /// Argon2id hash to store. A stored hash that cannot be read is
    /// [`PasswordError::UnusableHash`]; a password over [`MAX_PASSWORD_BYTES`] is a
    /// `Mismatch` at once, whatever the account (no password that long can have been set).
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<&PasswordHash>,
    ) -> Result<Verification, PasswordError> {
        if password.expose_secret().len() > MAX_PASSWORD_BYTES {
            return Ok(Verification::Mismatch);
        }
        let known = stored.is_some();
        let stored = stored.unwrap_or(&self.inner.dummy).clone();
        let reply = self.submit(|reply| Job::Verify {
            password,
            stored,
            reply,
        })?;
        let verification = reply.await.map_err(|_| PasswordError::Stopped)??;
        Ok(if known {
            verification
        } else {
            Verification::Mismatch
        })
    }

    /// The parameters new hashes are made with.
    pub fn params(&self) -> Argon2Params {
        self.inner.params
    }

    /// Jobs waiting for a worker.
    pub fn queue_depth(&self) -> usize {
        self.inner.counters.queued.load(Ordering::Relaxed)
    }

    /// A snapshot of the counters.
    pub fn metrics(&self) -> HasherMetrics {
        let counters = &self.inner.counters;
        HasherMetrics {
            queue_depth: counters.queued.load(Ordering::Relaxed),
            hashes_computed: counters.hashes_computed.load(Ordering::Relaxed),
            busy_rejections: counters.busy_rejections.load(Ordering::Relaxed),
        }
    }

    /// Queues a job without waiting; a full queue is `Busy` (the job, and the password in
    /// it, is dropped and zeroized).
    fn submit<T>(
        &self,
        job: impl FnOnce(oneshot::Sender<T>) -> Job,
    ) -> Result<oneshot::Receiver<T>, PasswordError> {
        let (reply, receiver) = oneshot::channel();
        let counters = &self.inner.counters;
        counters.queued.fetch_add(1, Ordering::Relaxed);
        match self.inner.sender.try_send(job(reply)) {
            Ok(()) => Ok(receiver),
            Err(TrySendError::Full(_)) => {
                counters.queued.fetch_sub(1, Ordering::Relaxed);
                counters.busy_rejections.fetch_add(1, Ordering::Relaxed);
                Err(PasswordError::Busy)
            }
            Err(TrySendError::Disconnected(_)) => {
                counters.queued.fetch_sub(1, Ordering::Relaxed);
                Err(PasswordError::Stopped)
            }
        }
    }
}

/// One worker per available core, or 1 when that cannot be told.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::params::OUTPUT_LEN;
    use crate::password::worker::phc_string;
    use argon2::{Algorithm, Argon2, Version};

    /// Tiny parameters so that tests stay fast.
    const FAST: Argon2Params = Argon2Params {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    fn secret(password: &str) -> SecretString {
        SecretString::from(password.to_owned())
    }

    fn fast_hasher(workers: usize, queue: usize) -> PasswordHasher {
        PasswordHasher::launch(FAST, workers, queue).unwrap().0
    }

    #[tokio::test]
    async fn hash_then_verify_matches() {
        let hasher = fast_hasher(2, 8);
        let hash = hasher.hash(secret("correct horse")).await.unwrap();
        assert!(hash.as_phc().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_eq!(
            hasher
                .verify(secret("correct horse"), Some(&hash))
                .await
                .unwrap(),
            Verification::Match { rehash: None }
        );
        let again = hasher.hash(secret("correct horse")).await.unwrap();
        assert_ne!(hash, again, "each hash has its own salt");
    }

    #[tokio::test]
    async fn wrong_password_mismatches() {
        let hasher = fast_hasher(1, 8);
        let hash = hasher.hash(secret("correct horse")).await.unwrap();
        assert_eq!(
            hasher
                .verify(secret("Correct horse"), Some(&hash))
                .await
                .unwrap(),
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn unknown_user_mismatches_after_a_real_hash() {
        let hasher = fast_hasher(1, 8);
        let before = hasher.metrics().hashes_computed;
        assert_eq!(
            hasher.verify(secret("anything"), None).await.unwrap(),
            Verification::Mismatch
        );
        assert_eq!(hasher.metrics().hashes_computed, before + 1);
        assert!(
            hasher
                .inner
                .dummy
                .as_phc()
                .starts_with("$argon2id$v=19$m=64,t=1,p=1$")
        );
    }

    #[tokio::test]
    async fn other_params_are_rehashed_on_match() {
        let old = fast_hasher(1, 8);
        let stored = old.hash(secret("correct horse")).await.unwrap();
        let current = PasswordHasher::launch(
            Argon2Params {
                memory_kib: 128,
                ..FAST
            },
            1,
            8,
        )
        .unwrap()
        .0;
        let Verification::Match {
            rehash: Some(rehash),
        } = current
            .verify(secret("correct horse"), Some(&stored))
            .await
            .unwrap()
        else {
            panic!("expected a match with a rehash");
        };
        assert!(rehash.as_phc().starts_with("$argon2id$v=19$m=128,t=1,p=1$"));
        assert_eq!(
            current
                .verify(secret("correct horse"), Some(&rehash))
                .await
                .unwrap(),
            Verification::Match { rehash: None }
        );
        // No rehash for a wrong password.
        assert_eq!(
            current
                .verify(secret("wrong horse"), Some(&stored))
                .await
                .unwrap(),
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn argon2i_and_argon2d_hashes_are_verified_and_rehashed() {
        let hasher = fast_hasher(1, 8);
        for algorithm in [Algorithm::Argon2i, Algorithm::Argon2d] {
            let params = FAST.to_argon2().unwrap();
            let salt = b"0123456789abcdef";
            let mut output = [0u8; OUTPUT_LEN];
            Argon2::new(algorithm, Version::V0x13, params.clone())
                .hash_password_into(b"correct horse", salt, &mut output)
                .unwrap();
            let phc = phc_string(&params, salt, &output)
                .unwrap()
                .as_phc()
                .replacen("argon2id", algorithm.as_str(), 1);
            let stored = PasswordHash::parse(&phc).unwrap();
            let verification = hasher
                .verify(secret("correct horse"), Some(&stored))
                .await
                .unwrap();
            let Verification::Match {
                rehash: Some(rehash),
            } = verification
            else {
                panic!("{algorithm}: expected a match with a rehash, got {verification:?}");
            };
            assert!(rehash.as_phc().starts_with("$argon2id$"));
        }
    }

    #[tokio::test]
    async fn hashes_from_the_reference_implementation_verify() {
        // Made with the reference CLI, e.g. `echo -n password | argon2 somesalt -id -t 1 -k 64`.
        // All have an 8-byte salt, so all are rehashed.
        let hasher = fast_hasher(1, 8);
        for stored in [
            "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$cpx6VEQbwTVZvcpxNIxOVUWZ5xnAipUmAe1cg2GMG70",
            "$argon2i$v=19$m=128,t=2,p=2$c29tZXNhbHQ$ulWoNed+qgOtPkgYtNprwL4MxLO+s4UQev6Q72kdBdY",
            // version 0x10, with and without `v=` (which then means 0x10)
            "$argon2id$v=16$m=64,t=1,p=1$c29tZXNhbHQ$BNNN5hUxEQkUk67iF/12o/X1a4Jvvi9IzrjXfdGe2so",
            "$argon2id$m=64,t=1,p=1$c29tZXNhbHQ$BNNN5hUxEQkUk67iF/12o/X1a4Jvvi9IzrjXfdGe2so",
            // more memory than the worker keeps: borrowed for this job
            "$argon2id$v=19$m=256,t=1,p=1$c29tZXNhbHQ$Ak7Awaxl0I2V8eRvzDOAHcXc7gRUcOdHZbf3OBtQ7NU",
        ] {
            let stored = PasswordHash::parse(stored).unwrap();
            let verification = hasher
                .verify(secret("password"), Some(&stored))
                .await
                .unwrap();
            assert!(
                matches!(verification, Verification::Match { rehash: Some(_) }),
                "{verification:?}"
            );
            assert_eq!(
                hasher
                    .verify(secret("passwore"), Some(&stored))
                    .await
                    .unwrap(),
                Verification::Mismatch
            );
        }
    }

    #[tokio::test]
    async fn unusable_stored_hash_is_an_error() {
        let hasher = fast_hasher(1, 8);
        let stored = PasswordHash::parse("$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ").unwrap();
        assert!(matches!(
            hasher.verify(secret("password"), Some(&stored)).await,
            Err(PasswordError::UnusableHash(_))
        ));
    }

    #[tokio::test]
    async fn overlong_passwords_are_refused_without_work() {
        let hasher = fast_hasher(1, 8);
        let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
        assert!(matches!(
            hasher.hash(secret(&long)).await,
            Err(PasswordError::PasswordTooLong)
        ));
        assert_eq!(
            hasher.verify(secret(&long), None).await.unwrap(),
            Verification::Mismatch
        );
        assert_eq!(hasher.metrics().hashes_computed, 0);
    }

    #[tokio::test]
    async fn full_queue_is_busy_at_once() {
        let hasher = fast_hasher(1, 1);
        // Hold the only worker.
        let (started_sender, started) = mpsc::channel();
        let (release_sender, release) = mpsc::channel();
        let _hold = hasher
            .submit(|_: oneshot::Sender<()>| Job::Hold {
                started: started_sender,
                release,
            })
            .unwrap();
        started.recv().unwrap();
        // Fill the one queue slot.
        let dummy = hasher.inner.dummy.clone();
        let queued = hasher
            .submit(|reply| Job::Verify {
                password: secret("queued"),
                stored: dummy,
                reply,
            })
            .unwrap();
        assert_eq!(hasher.queue_depth(), 1);

        assert!(matches!(
            hasher.verify(secret("anything"), None).await,
            Err(PasswordError::Busy)
        ));
        assert!(matches!(
            hasher.hash(secret("anything")).await,
            Err(PasswordError::Busy)
        ));
        assert_eq!(hasher.metrics().busy_rejections, 2);

        release_sender.send(()).unwrap();
        assert_eq!(queued.await.unwrap().unwrap(), Verification::Mismatch);
        assert_eq!(hasher.queue_depth(), 0);
    }

    #[tokio::test]
    async fn workers_stop_when_every_clone_is_dropped() {
        let (hasher, handles) = PasswordHasher::launch(FAST, 3, 4).unwrap();
        let names: Vec<_> = handles
            .iter()
            .map(|handle| handle.thread().name().map(str::to_owned))
            .collect();
        assert_eq!(
            names,
            [
                Some("argon2-0".to_owned()),
                Some("argon2-1".to_owned()),
                Some("argon2-2".to_owned())
            ]
        );
        let clone = hasher.clone();
        drop(hasher);
        clone.hash(secret("still running")).await.unwrap();
        drop(clone);
        for handle in handles {
            handle.join().unwrap();
        }
    }

    #[test]
    fn start_checks_params_and_sizes() {
        assert!(matches!(
            PasswordHasher::start(FAST, 1, 1),
            Err(PasswordError::InvalidParams(_))
        ));
        assert!(matches!(
            PasswordHasher::start(Argon2Params::default(), 0, 1),
            Err(PasswordError::InvalidPoolSize("worker"))
        ));
        assert!(matches!(
            PasswordHasher::start(Argon2Params::default(), 1, 0),
            Err(PasswordError::InvalidPoolSize("queue slot"))
        ));
    }

    #[tokio::test]
    async fn default_params_hash_and_verify() {
        let hasher = PasswordHasher::start(Argon2Params::default(), 1, 4).unwrap();
        let hash = hasher.hash(secret("correct horse battery")).await.unwrap();
        assert!(hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!hasher.params().needs_rehash(&hash));
        assert_eq!(
            hasher
                .verify(secret("correct horse battery"), Some(&hash))
                .await
                .unwrap(),
            Verification::Match { rehash: None }
        );
    }
}
