//! `tessera admin`: the CLI against a running server, as people (tables) and scripts (JSON).

use crate::harness::{BOOTSTRAP_TOKEN, TestServer};
use crate::http_suite;
use serde_json::Value;
use tokio::process::Command;

struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

async fn tessera_admin(server: &TestServer, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("admin")
        .args(["--url", &server.base])
        .args(args)
        .env("TESSERA_ADMIN_TOKEN", BOOTSTRAP_TOKEN)
        .env_remove("TESSERA_URL")
        .output()
        .await
        .expect("run tessera admin");
    Run {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into(),
        stderr: String::from_utf8_lossy(&output.stderr).into(),
    }
}

async fn json_of(server: &TestServer, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let run = tessera_admin(server, &all).await;
    assert!(run.success, "{args:?}: {}", run.stderr);
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {}", run.stdout))
}

async fn cli_manages_tenants_users_tokens_and_events(server: TestServer) {
    let tenant = json_of(
        &server,
        &[
            "tenants",
            "create",
            "acme",
            "--name",
            "ACME",
            "--domain",
            "id.acme.example",
        ],
    )
    .await;
    assert_eq!(tenant["slug"], "acme");
    let user = json_of(
        &server,
        &[
            "--tenant",
            "acme",
            "users",
            "create",
            "--email",
            "ada@acme.example",
            "--given-name",
            "Ada",
        ],
    )
    .await;
    let id = user["id"].as_str().unwrap().to_owned();
    assert_eq!(user["status"], "light");

    let table = tessera_admin(
        &server,
        &[
            "--tenant",
            "acme",
            "users",
            "list",
            "--email",
            "ADA@acme.example",
        ],
    )
    .await;
    assert!(table.success, "{}", table.stderr);
    let mut lines = table.stdout.lines();
    assert!(lines.next().unwrap().starts_with("ID"), "{}", table.stdout);
    let row = lines.next().unwrap();
    assert!(
        row.contains(&id) && row.contains("ada@acme.example") && row.contains("light"),
        "{row}"
    );

    let patch = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(patch.path(), r#"{"family_name": "Lovelace"}"#).unwrap();
    let patched = json_of(
        &server,
        &[
            "--tenant",
            "acme",
            "users",
            "update",
            &id,
            patch.path().to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(patched["family_name"], "Lovelace");
    let disabled = json_of(&server, &["--tenant", "acme", "users", "disable", &id]).await;
    assert_eq!(disabled["status"], "disabled");

    let token = json_of(
        &server,
        &[
            "--tenant",
            "acme",
            "tokens",
            "create",
            "--name",
            "crm",
            "--scope",
            "users:read",
        ],
    )
    .await;
    assert!(token["secret"].as_str().unwrap().starts_with("tsr_"));
    let tokens = tessera_admin(&server, &["--tenant", "acme", "tokens", "list"]).await;
    assert!(
        tokens.stdout.contains("crm") && tokens.stdout.contains("users:read"),
        "{}",
        tokens.stdout
    );

    let events = json_of(
        &server,
        &[
            "--tenant",
            "acme",
            "events",
            "list",
            "--type",
            "user.disabled",
        ],
    )
    .await;
    assert_eq!(events["items"].as_array().unwrap().len(), 1);
    let deleted = tessera_admin(&server, &["--tenant", "acme", "users", "delete", &id]).await;
    assert!(
        deleted.success && deleted.stdout.trim() == "deleted",
        "{}",
        deleted.stderr
    );

    let missing = tessera_admin(&server, &["--tenant", "acme", "users", "get", &id]).await;
    assert!(!missing.success);
    assert!(
        missing.stderr.contains("404 Not found"),
        "{}",
        missing.stderr
    );
    let no_token = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["admin", "--url", &server.base, "users", "list"])
        .env_remove("TESSERA_ADMIN_TOKEN")
        .output()
        .await
        .unwrap();
    assert!(!no_token.status.success());
    assert!(String::from_utf8_lossy(&no_token.stderr).contains("no token"));
}

async fn cli_registers_rotates_and_deletes_clients(server: TestServer) {
    let created = json_of(
        &server,
        &[
            "clients",
            "create",
            "--name",
            "Shop",
            "--redirect-uri",
            "https://shop.example.com/cb",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "refresh_token",
            "--first-party",
        ],
    )
    .await;
    let id = created["client_id"].as_str().unwrap().to_owned();
    let first_secret = created["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(created["first_party"], true);
    let table = tessera_admin(&server, &["clients", "list"]).await;
    assert!(
        table.success && table.stdout.contains("Shop"),
        "{}",
        table.stdout
    );
    assert!(
        !table.stdout.contains(&first_secret),
        "secrets are never listed"
    );
    let rotated = json_of(&server, &["clients", "rotate-secret", &id]).await;
    assert_ne!(rotated["client_secret"].as_str().unwrap(), first_secret);
    let bad = tessera_admin(
        &server,
        &[
            "clients",
            "create",
            "--name",
            "Bad",
            "--redirect-uri",
            "http://evil.example/cb",
        ],
    )
    .await;
    assert!(!bad.success);
    assert!(bad.stderr.contains("redirect_uris[0]"), "{}", bad.stderr);
    let deleted = tessera_admin(&server, &["clients", "delete", &id]).await;
    assert!(deleted.success, "{}", deleted.stderr);
    assert!(
        !tessera_admin(&server, &["clients", "get", &id])
            .await
            .success
    );
}

async fn cli_invites_lists_and_withdraws(server: TestServer) {
    let created = json_of(
        &server,
        &[
            "invitations",
            "create",
            "--email",
            "cli@example.com",
            "--valid-days",
            "2",
        ],
    )
    .await;
    assert_eq!(created["state"], "pending");
    let id = created["id"].as_str().unwrap().to_owned();
    let mail = server
        .mail
        .wait_for("cli@example.com", std::time::Duration::from_secs(10))
        .await
        .expect("the invitation mail");
    assert!(mail.text().unwrap().contains("/invite?id="));
    let table = tessera_admin(&server, &["invitations", "list"]).await;
    assert!(table.success, "{}", table.stderr);
    assert!(table.stdout.contains("cli@example.com") && table.stdout.contains("pending"));
    let withdrawn = json_of(&server, &["invitations", "revoke", &id]).await;
    assert_eq!(withdrawn["state"], "revoked");
    let again = tessera_admin(&server, &["invitations", "revoke", &id]).await;
    assert!(
        !again.success,
        "a withdrawn invitation cannot be withdrawn again"
    );
}

http_suite!(
    cli_manages_tenants_users_tokens_and_events,
    cli_registers_rotates_and_deletes_clients,
    cli_invites_lists_and_withdraws
);
