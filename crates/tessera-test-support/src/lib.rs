//! Helpers shared by Tessera's test suites: a fresh database per test on either backend,
//! an SMTP sink ([`smtp_sink`]) that receives the mails a test sends, an SMS provider
//! ([`sms_provider`]) that receives its text messages over HTTP, and an identity
//! verification provider ([`identity_provider`]) that takes its start requests, and a
//! captcha provider's `siteverify` endpoint ([`captcha_provider`]).
//!
//! PostgreSQL tests run when `TESSERA_TEST_DATABASE_URL` names a server; each test creates
//! its own database there and drops it afterwards. Without the variable they are skipped
//! with a message, except under `CI=true`, where a skip is a failure.

#![allow(clippy::panic, clippy::expect_used)] // test support: failing loudly is the point

pub mod captcha_provider;
pub mod identity_provider;
pub mod sms_provider;
pub mod smtp_sink;

use std::fmt;

/// The storage backends every suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        })
    }
}

/// The environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "TESSERA_TEST_DATABASE_URL";

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    directory: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A fresh, empty database, or `None` when the backend is not available here (after
    /// saying so on stderr). Under `CI=true` an unavailable backend panics instead.
    pub async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let directory = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", directory.path().join("tessera.db").display());
                Some(Self {
                    url,
                    backend,
                    directory: Some(directory),
                    postgres: None,
                })
            }
            Backend::Postgres => {
                let Ok(server) = std::env::var(POSTGRES_URL_VAR) else {
                    let message = format!(
                        "SKIPPED: PostgreSQL half of this test: set {POSTGRES_URL_VAR} (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run it"
                    );
                    if std::env::var("CI").is_ok_and(|v| v == "true") {
                        panic!("{message} (a skip is a failure under CI=true)");
                    }
                    eprintln!("{message}");
                    return None;
                };
                let name = format!("tessera_test_{}", uuid::Uuid::new_v4().simple());
                let url = tessera_store::admin::create_postgres_database(&server, &name)
                    .await
                    .unwrap_or_else(|e| panic!("cannot create test database on {server}: {e}"));
                Some(Self {
                    url,
                    backend,
                    directory: None,
                    postgres: Some((server, name)),
                })
            }
        }
    }

    /// Removes the database. Call at the end of a test; a failed test leaves its database
    /// behind for inspection (CI drops leftovers named `tessera_test_*`).
    pub async fn remove(self) {
        if let Some((server, name)) = &self.postgres {
            tessera_store::admin::drop_postgres_database(server, name)
                .await
                .unwrap_or_else(|e| panic!("cannot drop test database {name}: {e}"));
        }
        drop(self.directory);
    }
}
