//! The HTTP suite: a real server on port 0 over a fresh database, real HTTP clients. Each
//! case runs once per storage backend; the process-level cases run the built binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin_auth;
mod admin_input;
mod admin_profile;
mod admin_users;
mod binary;
mod captcha;
mod captcha_pages;
mod cli;
mod harness;
mod identity_verification;
mod invitations;
mod mail;
mod mfa;
mod oidc_flows;
mod oidc_security;
mod oidc_support;
mod operations;
mod passkeys;
mod phone;
mod profiling;
mod rate_limits;
mod risk;
mod scim;
mod signup;
mod sms;
mod tenants;

/// Declares each case once per backend: `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! http_suite {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::harness::with_server(tessera_test_support::Backend::Sqlite, super::$case).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::harness::with_server(tessera_test_support::Backend::Postgres, super::$case).await
            })*
        }
    };
}
