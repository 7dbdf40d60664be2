//! The key ring: the signing keys of the installation, decrypted once and cached, reloaded
//! from the store now and then so that every instance sees rotations. A new key is
//! published before it signs, and an old one stays published until every token it signed
//! has expired (A29).

use crate::jose::{Algorithm, JwkSet, SigningKey};
use bytes::Bytes;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use tessera_core::Core;
use tessera_core::error::CoreError;
use tessera_core::oauth::client::SigningAlgorithm;
use tessera_core::oauth::signing_key::SigningKeyRecord;
use tessera_core::sealing::SealingKey;
use tessera_core::store::StoreError;
use time::{Duration, OffsetDateTime};

/// Longest lifetime of any token we sign (the client maximum for access and ID tokens),
/// so a retired key stays published this long after its last signature.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::days(1);

/// Why the key ring cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    /// The store failed.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A stored key cannot be decrypted: the configured key encryption key is not the one
    /// the keys were sealed with.
    #[error("signing key {kid} cannot be decrypted with the configured key encryption key")]
    Undecryptable { kid: String },
    /// A stored or new key is unusable.
    #[error("signing key error: {0}")]
    Key(String),
}

#[derive(Debug)]
struct Loaded {
    keys: Vec<(SigningKeyRecord, Arc<SigningKey>)>,
    /// The `/jwks` document of these keys, made once: it is fetched far more often than
    /// keys change.
    jwks: Mutex<Option<PublishedJwks>>,
}

#[derive(Debug, Clone)]
struct PublishedJwks {
    json: Bytes,
    /// When a key retires and the document changes; `None`: not before a reload.
    until: Option<OffsetDateTime>,
}

impl Loaded {
    fn new(keys: Vec<(SigningKeyRecord, Arc<SigningKey>)>) -> Self {
        Self {
            keys,
            jwks: Mutex::new(None),
        }
    }
}

/// The installation's signing keys.
#[derive(Debug, Clone)]
pub struct KeyRing {
    core: Core,
    sealing: Arc<SealingKey>,
    loaded: Arc<RwLock<Arc<Loaded>>>,
}

pub fn to_jose(algorithm: SigningAlgorithm) -> Algorithm {
    match algorithm {
        SigningAlgorithm::Rs256 => Algorithm::Rs256,
        SigningAlgorithm::Es256 => Algorithm::Es256,
        SigningAlgorithm::EdDsa => Algorithm::EdDsa,
    }
}

fn context(kid: &str) -> Vec<u8> {
    format!("signing-key:{kid}").into_bytes()
}

impl KeyRing {
    /// Loads the keys, creating one per algorithm on first start. The sealing key may be
    /// shared (an `Arc`) with the services, which seal other secrets with it.
    pub async fn start(
        core: Core,
        sealing: impl Into<Arc<SealingKey>>,
    ) -> Result<Self, KeyRingError> {
        let ring = Self {
            core,
            sealing: sealing.into(),
            loaded: Arc::new(RwLock::new(Arc::new(Loaded::new(Vec::new())))),
        };
        ring.reload().await?;
        let now = ring.core.clock().now();
        for algorithm in SigningAlgorithm::ALL {
            if ring.signer(algorithm).is_none() {
                // Nothing was ever signed without a key of this kind: it may sign at once.
                ring.add_key(algorithm, now).await?;
            }
        }
        Ok(ring)
    }

    /// Reads the stored keys again (rotations by other instances or the CLI).
    pub async fn reload(&self) -> Result<(), KeyRingError> {
        let records = self
            .core
            .store()
            .signing_keys()
            .await
            .map_err(CoreError::from)?;
        let mut keys = Vec::with_capacity(records.len());
        for record in records {
            let der = self
                .sealing
                .open(&record.sealed_private_key, &context(&record.kid))
                .map_err(|_| KeyRingError::Undecryptable {
                    kid: record.kid.clone(),
                })?;
            let key = SigningKey::from_pkcs8(to_jose(record.algorithm), &der)
                .map_err(|e| KeyRingError::Key(e.to_string()))?;
            keys.push((record, Arc::new(key)));
        }
        let loaded = Arc::new(Loaded::new(keys));
        if let Ok(mut slot) = self.loaded.write() {
            *slot = loaded;
        }
        Ok(())
    }

    fn snapshot(&self) -> Arc<Loaded> {
        self.loaded
            .read()
            .map(|loaded| loaded.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// The newest key of `algorithm` that may sign now.
    pub fn signer(&self, algorithm: SigningAlgorithm) -> Option<Arc<SigningKey>> {
        let now = self.core.clock().now();
        self.snapshot()
            .keys
            .iter()
            .rev()
            .find(|(record, _)| record.algorithm == algorithm && record.may_sign(now))
            .map(|(_, key)| key.clone())
    }

    /// The published keys (`/jwks`): those that sign, will sign, or signed unexpired tokens.
    pub fn jwks(&self) -> JwkSet {
        let now = self.core.clock().now();
        JwkSet {
            keys: self
                .snapshot()
                .keys
                .iter()
                .filter(|(record, _)| record.is_published(now))
                .map(|(_, key)| key.public_jwk())
                .collect(),
        }
    }

    /// The published keys as the serialised `/jwks` document, rebuilt only when the keys
    /// are reloaded or one of them retires.
    pub fn jwks_document(&self) -> Result<Bytes, KeyRingError> {
        let now = self.core.clock().now();
        let loaded = self.snapshot();
        let mut slot = loaded.jwks.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(published) = slot.as_ref()
            && published.until.is_none_or(|until| now < until)
        {
            return Ok(published.json.clone());
        }
        let set = JwkSet {
            keys: loaded
                .keys
                .iter()
                .filter(|(record, _)| record.is_published(now))
                .map(|(_, key)| key.public_jwk())
                .collect(),
        };
        let json =
            Bytes::from(serde_json::to_vec(&set).map_err(|e| KeyRingError::Key(e.to_string()))?);
        let until = loaded
            .keys
            .iter()
            .filter_map(|(record, _)| record.retires_at)
            .filter(|at| *at > now)
            .min();
        *slot = Some(PublishedJwks {
            json: json.clone(),
            until,
        });
        Ok(json)
    }

    /// Starts the successor of every key older than `rotate_after`, signing from
    /// `publish_ahead` on, unless a successor is already waiting. Returns the new kids.
    pub async fn rotate_due(
        &self,
        rotate_after: Duration,
        publish_ahead: Duration,
    ) -> Result<Vec<String>, KeyRingError> {
        let now = self.core.clock().now();
        let loaded = self.snapshot();
        let mut made = Vec::new();
        for algorithm in SigningAlgorithm::ALL {
            let mine = || loaded.keys.iter().filter(|(r, _)| r.algorithm == algorithm);
            let waiting = mine().any(|(r, _)| r.activates_at > now);
            let newest = mine().map(|(r, _)| r.created_at).max();
            if !waiting && newest.is_some_and(|created| now - created >= rotate_after) {
                made.push(self.add_key(algorithm, now + publish_ahead).await?);
            }
        }
        Ok(made)
    }

    /// The stored keys with their schedule, oldest first (for `tessera keys list`).
    pub fn records(&self) -> Vec<SigningKeyRecord> {
        self.snapshot()
            .keys
            .iter()
            .map(|(record, _)| record.clone())
            .collect()
    }

    /// Creates a key of `algorithm` that starts signing at `activates_at`; the keys it
    /// replaces retire once the tokens they sign until then have expired.
    pub async fn add_key(
        &self,
        algorithm: SigningAlgorithm,
        activates_at: OffsetDateTime,
    ) -> Result<String, KeyRingError> {
        let (key, der) = SigningKey::generate(to_jose(algorithm))
            .map_err(|e| KeyRingError::Key(e.to_string()))?;
        let now = self.core.clock().now();
        let kid = key.kid().to_owned();
        let public_jwk =
            serde_json::to_value(key.public_jwk()).map_err(|e| KeyRingError::Key(e.to_string()))?;
        let record = SigningKeyRecord {
            kid: kid.clone(),
            algorithm,
            sealed_private_key: self
                .sealing
                .seal(&der, &context(&kid))
                .map_err(|e| KeyRingError::Key(e.to_string()))?,
            public_jwk,
            created_at: now,
            activates_at: activates_at.max(now),
            retires_at: None,
        };
        let store = self.core.store();
        let older: Vec<String> = self
            .snapshot()
            .keys
            .iter()
            .filter(|(r, _)| r.algorithm == algorithm && r.retires_at.is_none())
            .map(|(r, _)| r.kid.clone())
            .collect();
        store
            .insert_signing_key(&record)
            .await
            .map_err(CoreError::from)?;
        for kid in older {
            store
                .retire_signing_key(&kid, activates_at + MAX_TOKEN_LIFETIME)
                .await
                .map_err(CoreError::from)?;
        }
        store
            .delete_retired_signing_keys(now)
            .await
            .map_err(CoreError::from)?;
        self.reload().await?;
        Ok(kid)
    }
}

impl From<StoreError> for KeyRingError {
    fn from(error: StoreError) -> Self {
        Self::Core(error.into())
    }
}
