//! The OpenID Connect provider's part of the SQLite store (`OAuthStore`). Writes go
//! through the single writer with `BEGIN IMMEDIATE`, so a read-modify-write such as
//! redeeming a code or rotating a refresh token is serialised with every other write.
//!
//! Token records and refresh-token rotations are group-committed (`group_commit`): those
//! that arrive while the writer is busy share one transaction.
//!
//! One file per part of the port: `clients` (`ClientStore`), `sessions` (`SessionStore`)
//! and `grants` (`GrantStore`).

mod clients;
mod grants;
mod group_commit;
mod sessions;

use crate::errors::classify;
use crate::sqlite::from_micros;
pub(crate) use group_commit::GroupCommit;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use tessera_core::store::StoreResult;
use time::OffsetDateTime;

fn time(row: &SqliteRow, column: &str) -> StoreResult<OffsetDateTime> {
    from_micros(row.try_get(column).map_err(classify)?)
}
