//! Seeds users with five custom attributes each through the services and the store (in
//! batches, as an import would), then measures lookups and an admin attribute search.
//! Run through `bench/store.sh`; see the README for the figures.
//!
//! Users are created `TESSERA_BENCH_BATCH` (default 10,000) per transaction, as an import job
//! would: larger transactions amortise the write-ahead log (1,000 halves SQLite's rate).
//!
//! cargo run --release -p tessera-store --example seed_and_lookup -- sqlite 1000000
//! cargo run --release -p tessera-store --example seed_and_lookup -- postgres 1000000 postgres://postgres@127.0.0.1:5432/postgres

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use rand::Rng;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera_core::Core;
use tessera_core::attributes::AttributeSchema;
use tessera_core::auth::Authorized;
use tessera_core::clock::SystemClock;
use tessera_core::email::Email;
use tessera_core::ids::UserId;
use tessera_core::page::PageRequest;
use tessera_core::service::{NewUser, UserSearch};
use tessera_core::user::{Profile, UserEmail};
use tessera_store::StoreOptions;

const LOOKUPS: usize = 20_000;
const PLANS: [&str; 3] = ["free", "plus", "pro"];
const SEARCHES: usize = 200;
const COUNTRIES: [&str; 20] = [
    "DE", "FR", "GB", "US", "IT", "ES", "NL", "BE", "AT", "CH", "SE", "NO", "DK", "FI", "PL", "CZ",
    "PT", "IE", "CA", "JP",
];

fn schema() -> AttributeSchema {
    serde_json::from_value(json!({"attributes": [
        {"name": "country", "type": "enum", "enum_values": COUNTRIES},
        {"name": "plan", "type": "enum", "enum_values": ["free", "plus", "pro"]},
        {"name": "score", "type": "number"},
        {"name": "newsletter", "type": "boolean"},
        {"name": "signup_date", "type": "date"}
    ]}))
    .unwrap()
}

fn user(i: usize) -> NewUser {
    let email = UserEmail {
        value: Email::parse(&format!("user{i}@bench.example")).unwrap(),
        primary: true,
        verified: i.is_multiple_of(3),
        purposes: Default::default(),
        kind: None,
    };
    let attributes = json!({
        "country": COUNTRIES[i % COUNTRIES.len()],
        "plan": PLANS[i % PLANS.len()],
        "score": i % 1000,
        "newsletter": i.is_multiple_of(2),
        "signup_date": format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
    });
    NewUser {
        profile: Profile {
            given_name: Some(format!("Given{i}")),
            family_name: Some(format!("Family{}", i % 5000)),
            emails: vec![email],
            attributes: attributes.as_object().cloned().unwrap(),
            ..Profile::default()
        },
        password_hash: None,
        password: None,
        disabled: false,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

async fn measure<F, Fut>(runs: usize, mut call: F) -> (Duration, Duration)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(runs);
    for run in 0..runs {
        let started = Instant::now();
        call(run).await;
        samples.push(started.elapsed());
    }
    samples.sort();
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let backend = args
        .get(1)
        .map(String::as_str)
        .unwrap_or("sqlite")
        .to_owned();
    let users: usize = args
        .get(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let batch_size: usize = std::env::var("TESSERA_BENCH_BATCH")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
        .max(1);
    let directory = tempfile::tempdir().unwrap();
    let (url, database) = match backend.as_str() {
        "sqlite" => (
            format!("sqlite://{}", directory.path().join("bench.db").display()),
            None,
        ),
        "postgres" => {
            let server = args
                .get(3)
                .cloned()
                .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
            let name = format!("tessera_bench_{}", std::process::id());
            let url = tessera_store::admin::create_postgres_database(&server, &name)
                .await
                .unwrap();
            (url, Some((server, name)))
        }
        other => panic!("unknown backend {other}: sqlite or postgres"),
    };
    let store = tessera_store::connect(&url, &StoreOptions::default())
        .await
        .unwrap();
    let core = Core::start(store.clone(), Arc::new(SystemClock), None)
        .await
        .unwrap();
    let auth = Authorized::for_system(core.default_tenant());
    core.put_attribute_schema(&auth, schema()).await.unwrap();

    let started = Instant::now();
    let mut ids: Vec<UserId> = Vec::with_capacity(users);
    for first in (0..users).step_by(batch_size) {
        let batch: Vec<NewUser> = (first..(first + batch_size).min(users)).map(user).collect();
        ids.extend(
            core.create_users(&auth, batch, "bench")
                .await
                .unwrap()
                .into_iter()
                .map(|u| u.id),
        );
        if first.is_multiple_of(100_000) && first > 0 {
            eprintln!(
                "  {first} users, {:.0}/s",
                first as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    let seed = started.elapsed();
    let bytes = store.storage_bytes().await.unwrap();

    let tenant = core.default_tenant().id;
    let mut rng = rand::rng();
    let picks: Vec<usize> = (0..LOOKUPS).map(|_| rng.random_range(0..users)).collect();
    let (id_p50, id_p99) = measure(LOOKUPS, |run| {
        let (store, id) = (store.clone(), ids[picks[run]]);
        async move {
            assert!(store.user_by_id(tenant, id).await.unwrap().is_some());
        }
    })
    .await;
    let (email_p50, email_p99) = measure(LOOKUPS, |run| {
        let store = store.clone();
        let email = Email::parse(&format!("USER{}@bench.example", picks[run])).unwrap();
        async move {
            assert!(store.user_by_email(tenant, &email).await.unwrap().is_some());
        }
    })
    .await;
    let (search_p50, search_p99) = measure(SEARCHES, |run| {
        let (core, auth) = (core.clone(), auth.clone());
        let search = UserSearch {
            attributes: vec![("country".into(), COUNTRIES[run % COUNTRIES.len()].into())],
            ..UserSearch::default()
        };
        async move {
            let page = core
                .search_users(&auth, search, PageRequest::new(None, Some(50)))
                .await
                .unwrap();
            assert_eq!(page.items.len(), 50.min(users / COUNTRIES.len()));
        }
    })
    .await;
    let (narrow_p50, narrow_p99) = measure(SEARCHES, |run| {
        let (core, auth) = (core.clone(), auth.clone());
        let search = UserSearch {
            attributes: vec![
                ("country".into(), "DE".into()),
                ("score".into(), format!("{}", (run * 20) % 1000)),
            ],
            ..UserSearch::default()
        };
        async move {
            core.search_users(&auth, search, PageRequest::new(None, Some(50)))
                .await
                .unwrap();
        }
    })
    .await;

    println!(
        "| backend | users | seed s | users/s | database MiB | get by id p50/p99 µs | get by email p50/p99 µs | search by attribute p50/p99 µs | two-attribute search p50/p99 µs |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {backend} | {users} | {:.1} | {:.0} | {:.0} | {:.0} / {:.0} | {:.0} / {:.0} | {:.0} / {:.0} | {:.0} / {:.0} |",
        seed.as_secs_f64(),
        users as f64 / seed.as_secs_f64(),
        bytes as f64 / (1024.0 * 1024.0),
        micros(id_p50),
        micros(id_p99),
        micros(email_p50),
        micros(email_p99),
        micros(search_p50),
        micros(search_p99),
        micros(narrow_p50),
        micros(narrow_p99),
    );
    drop(core);
    drop(store);
    if let Some((server, name)) = database {
        tessera_store::admin::drop_postgres_database(&server, &name)
            .await
            .unwrap();
    }
}
