//! The provider's state over a real store, on SQLite and PostgreSQL, with a manual clock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod expiry;
mod keys;

use std::future::Future;
use std::sync::Arc;
use tessera_core::Core;
use tessera_core::clock::{Clock, ManualClock};
use tessera_store::StoreOptions;
use tessera_test_support::{Backend, TestDatabase};

/// Runs `case` with services over a fresh database of `backend` and a manual clock.
pub async fn run<F, Fut>(backend: Backend, case: F)
where
    F: FnOnce(Core, Arc<ManualClock>) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let store = tessera_store::connect(&database.url, &StoreOptions::default())
        .await
        .expect("connect");
    let clock = Arc::new(ManualClock::new(
        time::macros::datetime!(2026-06-01 12:00 UTC),
    ));
    let core = Core::start(store, clock.clone() as Arc<dyn Clock>, None)
        .await
        .expect("core");
    case(core, clock).await;
    database.remove().await;
}

#[macro_export]
macro_rules! on_both_backends {
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
