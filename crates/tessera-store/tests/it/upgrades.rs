//! Upgrading a database that holds data: rows written by an earlier version (schema 0003,
//! before usernames) are seeded with the SQL of that time, then the current migrations run
//! and the current code reads and writes them. Fresh databases, which every other case
//! uses, cannot show a backfill that went wrong.

use crate::fixtures::{code, core, person};
use sqlx::types::Json;
use std::borrow::Cow;
use tessera_core::ErrorCode;
use tessera_core::auth::Authorized;
use tessera_core::ids::{TenantId, UserId};
use tessera_core::tenant::TenantSettings;
use tessera_core::user::{UserStatus, Username};
use tessera_store::StoreOptions;
use tessera_test_support::{Backend, TestDatabase};
use time::macros::datetime;
use uuid::Uuid;

/// The last migration before usernames.
const BEFORE_USERNAMES: i64 = 3;

const TENANT: Uuid = uuid::uuid!("0193e0a0-0000-7000-8000-000000000001");
const WITH_EMAIL: Uuid = uuid::uuid!("0193e0a0-0000-7000-8000-000000000002");
const WITHOUT_EMAIL: Uuid = uuid::uuid!("0193e0a0-0000-7000-8000-000000000003");

/// A profile as the code of schema 0003 wrote it.
fn old_profile(email: Option<&str>) -> serde_json::Value {
    let emails: Vec<_> = email
        .map(|address| serde_json::json!({"value": address, "primary": true, "verified": false, "purposes": ["marketing"]}))
        .into_iter()
        .collect();
    serde_json::json!({
        "given_name": "Ada", "family_name": null, "name": null, "locale": null, "zoneinfo": null,
        "emails": emails, "phone_numbers": [], "external_ids": [], "attributes": {}
    })
}

fn settings() -> String {
    serde_json::to_string(&TenantSettings::default()).unwrap()
}

async fn seed_sqlite(url: &str) {
    let options = url
        .parse::<sqlx::sqlite::SqliteConnectOptions>()
        .unwrap()
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let mut migrator = sqlx::migrate!("./migrations/sqlite");
    migrator.migrations = Cow::Owned(
        migrator
            .migrations
            .iter()
            .filter(|m| m.version <= BEFORE_USERNAMES)
            .cloned()
            .collect(),
    );
    migrator.run(&pool).await.unwrap();
    let at = 1_700_000_000_000_000_i64;
    sqlx::query("INSERT INTO tenants (id, slug, display_name, settings, created_at, updated_at, version) VALUES (?1, 'default', 'Default', ?2, ?3, ?3, 1)")
        .bind(TENANT)
        .bind(settings())
        .bind(at)
        .execute(&pool)
        .await
        .unwrap();
    for (id, email) in [(WITH_EMAIL, Some("Ada@Example.com")), (WITHOUT_EMAIL, None)] {
        sqlx::query("INSERT INTO users (id, tenant_id, status, profile, search_names, created_at, updated_at, version) VALUES (?1, ?2, 'light', ?3, '', ?4, ?4, 1)")
            .bind(id)
            .bind(TENANT)
            .bind(Json(old_profile(email)))
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
        if let Some(address) = email {
            sqlx::query("INSERT INTO user_emails (user_id, tenant_id, address, is_primary) VALUES (?1, ?2, ?3, 1)")
                .bind(id)
                .bind(TENANT)
                .bind(address.to_lowercase())
                .execute(&pool)
                .await
                .unwrap();
        }
    }
    pool.close().await;
}

async fn seed_postgres(url: &str) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let mut migrator = sqlx::migrate!("./migrations/postgres");
    migrator.migrations = Cow::Owned(
        migrator
            .migrations
            .iter()
            .filter(|m| m.version <= BEFORE_USERNAMES)
            .cloned()
            .collect(),
    );
    migrator.run(&pool).await.unwrap();
    let at = datetime!(2023-11-14 22:13:20 UTC);
    sqlx::query("INSERT INTO tenants (id, slug, display_name, settings, created_at, updated_at, version) VALUES ($1, 'default', 'Default', $2::jsonb, $3, $3, 1)")
        .bind(TENANT)
        .bind(settings())
        .bind(at)
        .execute(&pool)
        .await
        .unwrap();
    for (id, email) in [(WITH_EMAIL, Some("Ada@Example.com")), (WITHOUT_EMAIL, None)] {
        sqlx::query("INSERT INTO users (id, tenant_id, status, profile, search_names, created_at, updated_at, version) VALUES ($1, $2, 'light', $3, '', $4, $4, 1)")
            .bind(id)
            .bind(TENANT)
            .bind(Json(old_profile(email)))
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
        if let Some(address) = email {
            sqlx::query("INSERT INTO user_emails (user_id, tenant_id, address, is_primary) VALUES ($1, $2, $3, TRUE)")
                .bind(id)
                .bind(TENANT)
                .bind(address.to_lowercase())
                .execute(&pool)
                .await
                .unwrap();
        }
    }
    pool.close().await;
}

async fn users_of_schema_0003_get_usernames_on_upgrade(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    match backend {
        Backend::Sqlite => seed_sqlite(&database.url).await,
        Backend::Postgres => seed_postgres(&database.url).await,
    }
    let store = tessera_store::connect(&database.url, &StoreOptions::default())
        .await
        .expect("the current migrations apply over old data");
    let (core, _) = core(store).await;
    assert_eq!(core.default_tenant().id, TenantId::from_uuid(TENANT));
    let auth = Authorized::for_system(core.default_tenant());

    let with_email = core
        .get_user(&auth, UserId::from_uuid(WITH_EMAIL))
        .await
        .unwrap();
    assert_eq!(with_email.status, UserStatus::Light);
    assert_eq!(
        with_email.username().map(Username::as_str),
        Some("Ada@Example.com"),
        "the primary email as typed"
    );
    let without_email = core
        .get_user(&auth, UserId::from_uuid(WITHOUT_EMAIL))
        .await
        .unwrap();
    assert_eq!(
        without_email.username().map(Username::as_str),
        Some(WITHOUT_EMAIL.to_string().as_str()),
        "the id when there is no email"
    );

    // The backfilled keys are unique like new ones, ignoring case (A40).
    let mut taken = person("Grace", "Hopper", "grace@example.com");
    taken.profile.username = Some(Username::parse("ADA@example.COM").unwrap());
    assert_eq!(
        code(core.create_user(&auth, taken).await),
        ErrorCode::Duplicate
    );
    let fresh = core
        .create_user(&auth, person("Grace", "Hopper", "grace@example.com"))
        .await
        .unwrap();
    assert_eq!(
        fresh.username().map(Username::as_str),
        Some("grace@example.com")
    );
    database.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_users_of_schema_0003_get_usernames_on_upgrade() {
    users_of_schema_0003_get_usernames_on_upgrade(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_users_of_schema_0003_get_usernames_on_upgrade() {
    users_of_schema_0003_get_usernames_on_upgrade(Backend::Postgres).await;
}
