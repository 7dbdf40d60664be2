//! Group commit for the writes of token requests. On SQLite each statement is a round trip
//! to the single writer's thread, and each transaction pays for taking the write lock and
//! appending its pages to the WAL; for token grants those, not the rows, were most of the
//! cost. Writes that arrive while the writer is busy wait and share one transaction:
//! access-token records (and their events) as two multi-row statements, refresh-token
//! rotations one after the other (each still an atomic compare-and-set: the writer runs them
//! serially). Each caller waits for the commit that holds its write, so a token is never
//! handed out before its record is durable. A batch that fails is retried write by write so
//! that every caller gets its own, true answer.

use super::grants::{RotationRequest, insert_access_records, rotate_in};
use crate::errors::classify;
use crate::sqlite::insert_events;
use sqlx::SqlitePool;
use tessera_core::event::Event;
use tessera_core::oauth::grant::{AccessTokenRecord, Rotation};
use tessera_core::store::{StoreError, StoreResult};
use tokio::sync::{mpsc, oneshot};

/// Most writes in one transaction.
const MAX_BATCH: usize = 256;

/// Writes waiting for the writer; beyond this, callers wait to enqueue (back-pressure).
const QUEUE: usize = 4096;

enum Job {
    Access {
        record: AccessTokenRecord,
        event: Event,
        done: oneshot::Sender<StoreResult<()>>,
    },
    Rotate {
        request: RotationRequest,
        done: oneshot::Sender<StoreResult<Rotation>>,
    },
}

/// The queue in front of the writer; the task behind it ends when the store is dropped.
#[derive(Debug, Clone)]
pub(crate) struct GroupCommit {
    queue: mpsc::Sender<Job>,
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the database writer has stopped".into())
}

impl GroupCommit {
    /// Starts the writing task on the current Tokio runtime.
    pub(crate) fn start(writer: SqlitePool) -> Self {
        let (queue, mut incoming) = mpsc::channel::<Job>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while incoming.recv_many(&mut batch, MAX_BATCH).await > 0 {
                write_batch(&writer, std::mem::take(&mut batch)).await;
            }
        });
        Self { queue }
    }

    /// Writes the record and its event; returns once they are committed.
    pub(super) async fn append(
        &self,
        record: &AccessTokenRecord,
        event: &Event,
    ) -> StoreResult<()> {
        let (done, committed) = oneshot::channel();
        let job = Job::Access {
            record: record.clone(),
            event: event.clone(),
            done,
        };
        self.queue.send(job).await.map_err(|_| stopped())?;
        committed.await.map_err(|_| stopped())?
    }

    /// Rotates a refresh token; returns once the rotation is committed.
    pub(super) async fn rotate(&self, request: RotationRequest) -> StoreResult<Rotation> {
        let (done, committed) = oneshot::channel();
        let job = Job::Rotate { request, done };
        self.queue.send(job).await.map_err(|_| stopped())?;
        committed.await.map_err(|_| stopped())?
    }
}

async fn write_batch(writer: &SqlitePool, batch: Vec<Job>) {
    match write_together(writer, &batch).await {
        Ok(rotations) => {
            let mut rotations = rotations.into_iter();
            for job in batch {
                match job {
                    Job::Access { done, .. } => {
                        let _ = done.send(Ok(()));
                    }
                    Job::Rotate { done, .. } => {
                        let result = rotations.next().ok_or_else(stopped);
                        let _ = done.send(result);
                    }
                }
            }
        }
        // One bad write must not fail its neighbours: each is tried on its own.
        Err(_) => {
            for job in batch {
                let single = std::slice::from_ref(&job);
                let result = write_together(writer, single).await;
                match (job, result) {
                    (Job::Access { done, .. }, result) => {
                        let _ = done.send(result.map(|_| ()));
                    }
                    (Job::Rotate { done, .. }, Ok(mut rotations)) => {
                        let _ = done.send(rotations.pop().ok_or_else(stopped));
                    }
                    (Job::Rotate { done, .. }, Err(error)) => {
                        let _ = done.send(Err(error));
                    }
                }
            }
        }
    }
}

/// Writes `jobs` in one transaction; returns the rotations' results in order.
async fn write_together(writer: &SqlitePool, jobs: &[Job]) -> StoreResult<Vec<Rotation>> {
    let mut tx = writer
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(classify)?;
    let (records, events): (Vec<_>, Vec<_>) = jobs
        .iter()
        .filter_map(|job| match job {
            Job::Access { record, event, .. } => Some((record.clone(), event.clone())),
            Job::Rotate { .. } => None,
        })
        .unzip();
    insert_access_records(&mut tx, &records).await?;
    insert_events(&mut tx, &events).await?;
    let mut rotations = Vec::new();
    for job in jobs {
        if let Job::Rotate { request, .. } = job {
            rotations.push(rotate_in(&mut tx, request).await?);
        }
    }
    tx.commit().await.map_err(classify)?;
    Ok(rotations)
}
