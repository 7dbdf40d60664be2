//! The store conformance suite: every case is written once against the `Store` trait (or
//! the services over it) and runs on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod filter_fixture;
mod filter_paging;
mod filter_table;
mod fixtures;
mod groups;
mod identity_verification;
mod lockout;
mod mfa;
mod oauth;
mod passkeys;
mod phone_verifications;
mod profiling;
mod sign_in_history;
mod sign_ups;
mod tenants;
mod tokens_and_events;
mod upgrades;
mod usernames;
mod users;

use std::future::Future;
use std::sync::Arc;
use tessera_core::store::Store;
use tessera_store::StoreOptions;
use tessera_test_support::{Backend, TestDatabase};

/// Runs `case` against a fresh database of `backend`, or reports a skip.
pub async fn run<F, Fut>(backend: Backend, case: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let store = tessera_store::connect(&database.url, &StoreOptions::default())
        .await
        .expect("connect");
    case(store).await;
    database.remove().await;
}

/// Declares each case once per backend: `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() { $crate::run(tessera_test_support::Backend::Sqlite, super::$case).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() { $crate::run(tessera_test_support::Backend::Postgres, super::$case).await })*
        }
    };
}
