//! The worker side of [`PasswordHasher`](super::PasswordHasher): one OS thread per worker,
//! each with its own Argon2 memory, allocated at its first job and reused for every job while
//! work keeps coming; after a short idle spell it is wiped and given back, so an idle server
//! does not hold megabytes per worker. Between jobs the memory still holds the last job's
//! Argon2 state. (Wiping
//! after every job cost 3–11 % of throughput in a quick measurement, and would protect only
//! against someone who can already read the process's memory, and so the passwords as they
//! arrive.)

use super::params::{Argon2Params, OUTPUT_LEN, SALT_LEN, StoredHash};
use super::pool::{PasswordError, Verification};
use crate::password_hash::PasswordHash;
use argon2::password_hash::phc;
use argon2::{Algorithm, Argon2, Block, Version};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

/// A worker keeps its Argon2 memory this long without work, then gives it back.
const IDLE_RELEASE: Duration = Duration::from_secs(2);
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;
use zeroize::Zeroizing;

/// Counters shared by the handle and the workers.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) queued: AtomicUsize,
    pub(super) hashes_computed: AtomicU64,
    pub(super) busy_rejections: AtomicU64,
}

/// One unit of work for a worker.
pub(super) enum Job {
    Hash {
        password: SecretString,
        reply: oneshot::Sender<Result<PasswordHash, PasswordError>>,
    },
    Verify {
        password: SecretString,
        stored: PasswordHash,
        reply: oneshot::Sender<Result<Verification, PasswordError>>,
    },
    /// Holds a worker until released, so tests can fill the queue deterministically.
    #[cfg(test)]
    Hold {
        started: std::sync::mpsc::Sender<()>,
        release: Receiver<()>,
    },
}

/// A worker thread's state: its parameters and its reusable Argon2 memory.
pub(super) struct Worker {
    pub(super) params: Argon2Params,
    pub(super) argon2_params: argon2::Params,
    pub(super) memory: Vec<Block>,
    pub(super) counters: Arc<Counters>,
}

impl Worker {
    pub(super) fn run(mut self, receiver: &Mutex<Receiver<Job>>) {
        loop {
            // The lock is held only while waiting for the next job.
            let job = match receiver.lock() {
                Ok(receiver) if self.memory.is_empty() => receiver.recv().ok(),
                Ok(receiver) => match receiver.recv_timeout(IDLE_RELEASE) {
                    Ok(job) => Some(job),
                    Err(RecvTimeoutError::Timeout) => {
                        drop(receiver);
                        self.release_memory();
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => None,
                },
                Err(_) => None,
            };
            let Some(job) = job else { break };
            self.counters.queued.fetch_sub(1, Ordering::Relaxed);
            self.handle(job);
        }
        self.release_memory();
    }

    /// Wipes the Argon2 memory (no password-derived state goes back to the allocator) and
    /// frees it.
    fn release_memory(&mut self) {
        self.memory.fill(Block::new());
        std::hint::black_box(&self.memory);
        self.memory = Vec::new();
    }

    /// The memory for the current parameters, allocated if the worker has none.
    fn ensure_memory(&mut self) -> Result<(), PasswordError> {
        let blocks = self.argon2_params.block_count();
        if self.memory.len() < blocks {
            self.memory = allocate(blocks, self.params.memory_kib)?;
        }
        Ok(())
    }

    fn handle(&mut self, job: Job) {
        match job {
            Job::Hash { password, reply } => {
                // Skip work whose caller has gone (a dropped request future).
                if !reply.is_closed() {
                    let _ = reply.send(self.hash(&password));
                }
            }
            Job::Verify {
                password,
                stored,
                reply,
            } => {
                if !reply.is_closed() {
                    let _ = reply.send(self.verify(&password, &stored));
                }
            }
            #[cfg(test)]
            Job::Hold { started, release } => {
                let _ = started.send(());
                let _ = release.recv();
            }
        }
    }

    fn hash(&mut self, password: &SecretString) -> Result<PasswordHash, PasswordError> {
        let mut salt = [0u8; SALT_LEN];
        rand::rng().fill_bytes(&mut salt);
        self.hash_with_salt(password, &salt)
    }

    fn hash_with_salt(
        &mut self,
        password: &SecretString,
        salt: &[u8; SALT_LEN],
    ) -> Result<PasswordHash, PasswordError> {
        let mut output = Zeroizing::new([0u8; OUTPUT_LEN]);
        let argon2 = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            self.argon2_params.clone(),
        );
        self.counters
            .hashes_computed
            .fetch_add(1, Ordering::Relaxed);
        self.ensure_memory()?;
        let blocks = self.argon2_params.block_count();
        let memory = self
            .memory
            .get_mut(..blocks)
            .ok_or(PasswordError::OutOfMemory(self.params.memory_kib))?;
        argon2
            .hash_password_into_with_memory(
                password.expose_secret().as_bytes(),
                salt,
                output.as_mut_slice(),
                memory,
            )
            .map_err(argon2_error)?;
        phc_string(&self.argon2_params, salt, output.as_slice())
    }

    fn verify(
        &mut self,
        password: &SecretString,
        stored: &PasswordHash,
    ) -> Result<Verification, PasswordError> {
        let stored = StoredHash::decode(stored).map_err(PasswordError::UnusableHash)?;
        self.ensure_memory()?;
        let argon2 = Argon2::new(stored.algorithm, stored.version, stored.params.clone());
        let mut output = Zeroizing::new(vec![0u8; stored.expected.len()]);
        let blocks = stored.params.block_count();
        self.counters
            .hashes_computed
            .fetch_add(1, Ordering::Relaxed);
        let computed = match self.memory.get_mut(..blocks) {
            Some(memory) => argon2.hash_password_into_with_memory(
                password.expose_secret().as_bytes(),
                &stored.salt,
                output.as_mut_slice(),
                memory,
            ),
            // A stored hash costlier than the current parameters: borrow memory for it once.
            None => {
                let mut memory = allocate(blocks, stored.params.m_cost())?;
                let computed = argon2.hash_password_into_with_memory(
                    password.expose_secret().as_bytes(),
                    &stored.salt,
                    output.as_mut_slice(),
                    memory.as_mut_slice(),
                );
                memory.fill(Block::new());
                std::hint::black_box(&memory);
                computed
            }
        };
        computed.map_err(|_| PasswordError::UnusableHash("argon2 refused its parameters"))?;
        let matches: bool = output.as_slice().ct_eq(stored.expected.as_bytes()).into();
        if !matches {
            return Ok(Verification::Mismatch);
        }
        let rehash = if stored.needs_rehash(&self.params) {
            Some(self.hash(password)?)
        } else {
            None
        };
        Ok(Verification::Match { rehash })
    }
}

/// Allocates `blocks` Argon2 blocks, reporting failure instead of aborting.
pub(super) fn allocate(blocks: usize, memory_kib: u32) -> Result<Vec<Block>, PasswordError> {
    let mut memory = Vec::new();
    memory
        .try_reserve_exact(blocks)
        .map_err(|_| PasswordError::OutOfMemory(memory_kib))?;
    memory.resize(blocks, Block::new());
    Ok(memory)
}

/// The PHC string of an Argon2id (v=19) hash.
pub(super) fn phc_string(
    params: &argon2::Params,
    salt: &[u8],
    output: &[u8],
) -> Result<PasswordHash, PasswordError> {
    let phc = phc::PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: phc::ParamsString::try_from(params).map_err(phc_error)?,
        salt: Some(phc::Salt::new(salt).map_err(phc_error)?),
        hash: Some(phc::Output::new(output).map_err(phc_error)?),
    };
    PasswordHash::parse(&phc.to_string())
        .map_err(|error| PasswordError::Argon2(format!("made an unusable PHC string: {error}")))
}

/// A hash nobody's password matches: the current parameters, a random salt and a random
/// output. Verifying against it costs exactly what verifying a current hash costs.
pub(super) fn dummy_hash(params: &argon2::Params) -> Result<PasswordHash, PasswordError> {
    let mut salt = [0u8; SALT_LEN];
    let mut output = [0u8; OUTPUT_LEN];
    rand::rng().fill_bytes(&mut salt);
    rand::rng().fill_bytes(&mut output);
    phc_string(params, &salt, &output)
}

pub(super) fn argon2_error(error: argon2::Error) -> PasswordError {
    PasswordError::Argon2(error.to_string())
}

fn phc_error(error: impl std::fmt::Display) -> PasswordError {
    PasswordError::Argon2(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Argon2Params = Argon2Params {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    fn secret(password: &str) -> SecretString {
        SecretString::from(password.to_owned())
    }

    #[test]
    fn hashes_match_the_reference_implementation() {
        // `echo -n password | argon2 somesaltsomesalt -id -t 1 -k 64 -p 1 -l 32 -e`
        let argon2_params = FAST.to_argon2().unwrap();
        let mut worker = Worker {
            params: FAST,
            memory: allocate(argon2_params.block_count(), FAST.memory_kib).unwrap(),
            argon2_params,
            counters: Arc::default(),
        };
        for _reused_memory in 0..2 {
            let hash = worker
                .hash_with_salt(&secret("password"), b"somesaltsomesalt")
                .unwrap();
            assert_eq!(
                hash.as_phc(),
                "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$55PWTvddWPUD1GMbKxSff4ASfF85k9ibHJt4HlHQtBM"
            );
        }
    }
}
