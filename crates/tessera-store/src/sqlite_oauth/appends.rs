//! Group commit for access-token records. Every token request writes a record and an
//! event; on SQLite each statement is a round trip to the single writer's thread, and those
//! hops, not SQLite, were most of a `client_credentials` grant's cost. Records that arrive
//! while the writer is busy wait and are written together: one transaction and two
//! multi-row statements for the whole batch. Each caller still waits for the commit that
//! holds its record, so a token is never handed out before its record is durable.

use super::grants::insert_access_records;
use crate::errors::classify;
use crate::sqlite::insert_events;
use sqlx::SqlitePool;
use tessera_core::event::Event;
use tessera_core::oauth::grant::AccessTokenRecord;
use tessera_core::store::{StoreError, StoreResult};
use tokio::sync::{mpsc, oneshot};

/// Most records written in one transaction.
const MAX_BATCH: usize = 256;

/// Records waiting for the writer; beyond this, callers wait to enqueue (back-pressure).
const QUEUE: usize = 4096;

struct Pending {
    access: AccessTokenRecord,
    event: Event,
    done: oneshot::Sender<StoreResult<()>>,
}

/// The queue in front of the writer; the task behind it ends when the store is dropped.
#[derive(Debug, Clone)]
pub(crate) struct AccessTokenAppender {
    queue: mpsc::Sender<Pending>,
}

impl AccessTokenAppender {
    /// Starts the writing task on the current Tokio runtime.
    pub(crate) fn start(writer: SqlitePool) -> Self {
        let (queue, mut incoming) = mpsc::channel::<Pending>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while incoming.recv_many(&mut batch, MAX_BATCH).await > 0 {
                write_batch(&writer, std::mem::take(&mut batch)).await;
            }
        });
        Self { queue }
    }

    /// Writes the record and its event; returns once they are committed.
    pub(crate) async fn append(
        &self,
        access: &AccessTokenRecord,
        event: &Event,
    ) -> StoreResult<()> {
        let (done, committed) = oneshot::channel();
        let pending = Pending {
            access: access.clone(),
            event: event.clone(),
            done,
        };
        let stopped = || StoreError::Unavailable("the database writer has stopped".into());
        self.queue.send(pending).await.map_err(|_| stopped())?;
        committed.await.map_err(|_| stopped())?
    }
}

async fn write_batch(writer: &SqlitePool, batch: Vec<Pending>) {
    let (records, events): (Vec<_>, Vec<_>) = batch
        .iter()
        .map(|p| (p.access.clone(), p.event.clone()))
        .unzip();
    match write(writer, &records, &events).await {
        Ok(()) => {
            for pending in batch {
                let _ = pending.done.send(Ok(()));
            }
        }
        Err(error) if batch.len() == 1 => {
            if let Some(pending) = batch.into_iter().next() {
                let _ = pending.done.send(Err(error));
            }
        }
        // One bad record must not fail its neighbours: each is tried on its own so that
        // every caller gets its own answer.
        Err(_) => {
            for pending in batch {
                let result = write(
                    writer,
                    std::slice::from_ref(&pending.access),
                    std::slice::from_ref(&pending.event),
                )
                .await;
                let _ = pending.done.send(result);
            }
        }
    }
}

async fn write(
    writer: &SqlitePool,
    records: &[AccessTokenRecord],
    events: &[Event],
) -> StoreResult<()> {
    let mut tx = writer
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(classify)?;
    insert_access_records(&mut tx, records).await?;
    insert_events(&mut tx, events).await?;
    tx.commit().await.map_err(classify)
}
