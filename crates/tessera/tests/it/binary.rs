//! The real binary as an operator runs it: no configuration, signals, configuration errors,
//! and no secret in its logs.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const CANARY_TOKEN: &str = "canary-bootstrap-token-7f3a9c1e5b2d4f6a8c0e";

pub(crate) fn tessera() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("TESSERA_")) {
        command.env_remove(name);
    }
    command
        .env("RUST_LOG", "debug")
        .env_remove("RUST_BACKTRACE");
    command
}

/// The server's log lines, collected as they come.
pub(crate) type Log = Arc<Mutex<Vec<String>>>;

/// Collects the child's stderr and waits for the "serving" line; returns the address.
pub(crate) async fn wait_for_address(child: &mut Child) -> (String, Log) {
    let log: Log = Arc::default();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let sink = log.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });
    for _ in 0..300 {
        let serving = log
            .lock()
            .unwrap()
            .iter()
            .find(|line| line.contains("tessera is serving"))
            .cloned();
        if let Some(line) = serving {
            let address = line
                .split("address=")
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned();
            return (address, log);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not start: {:?}", log.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_without_configuration_then_stop_on_sigterm() {
    let directory = tempfile::tempdir().unwrap();
    let mut child = tessera()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TESSERA_ADMIN_TOKEN", CANARY_TOKEN)
        .current_dir(directory.path())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (address, log) = wait_for_address(&mut child).await;
    assert!(
        directory.path().join("tessera-data/tessera.db").exists(),
        "the embedded database is created in ./tessera-data"
    );

    let client = reqwest::Client::new();
    let base = format!("http://{address}");
    assert_eq!(
        client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let created = client
        .post(format!("{base}/admin/v1/api-tokens?canary={CANARY_TOKEN}"))
        .bearer_auth(CANARY_TOKEN)
        .json(&serde_json::json!({"name": "canary", "scopes": ["admin"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let secret = created.json::<serde_json::Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = client
        .get(format!("{base}/admin/v1/users"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let refused = client
        .get(format!("{base}/admin/v1/users"))
        .bearer_auth(format!("{secret}x"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    let pid = child.id().unwrap().to_string();
    let kill = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(kill.success());
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("stops within 15 s")
        .unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    tokio::time::sleep(Duration::from_millis(200)).await; // let the reader drain the pipe
    let all = log.lock().unwrap().join("\n");
    assert!(all.contains("tessera stopped"), "{all}");
    // A24: secrets never reach the logs, even at debug level
    assert!(
        !all.contains(CANARY_TOKEN),
        "the bootstrap token leaked into the log:\n{all}"
    );
    assert!(
        !all.contains(&secret),
        "an API token leaked into the log:\n{all}"
    );
    assert!(
        all.contains("/admin/v1/users"),
        "requests are logged by path"
    );
}

#[tokio::test]
async fn configuration_errors_name_the_setting() {
    let directory = tempfile::tempdir().unwrap();
    /// Environment, flags, and the setting the error must name.
    type Case = (
        &'static [(&'static str, &'static str)],
        &'static [&'static str],
        &'static str,
    );
    let cases: [Case; 5] = [
        (&[("TESSERA_LOG_LEVEL", "tessera=loud")], &[], "`log_level`"),
        (&[("TESSERA_LISTEN", "nowhere")], &[], "`listen`"),
        (
            &[("TESSERA_DATABASE_URL", "mysql://db")],
            &[],
            "`database_url`",
        ),
        (&[], &["--public-url", "not a url"], "`public_url`"),
        (&[("TESSERA_ADMIN_TOKEN", "short")], &[], "`admin_token`"),
    ];
    for (environment, flags, setting) in cases {
        let output = tessera()
            .arg("serve")
            .args(flags)
            .envs(environment.iter().copied())
            .current_dir(directory.path())
            .output()
            .await
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(setting), "expected {setting} in: {stderr}");
    }
    std::fs::write(
        directory.path().join("tessera.toml"),
        "listen = \"127.0.0.1:0\"\nlistne = 1\n",
    )
    .unwrap();
    let output = tessera()
        .arg("serve")
        .current_dir(directory.path())
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("listne"),
        "unknown keys are named"
    );
    let missing = tessera()
        .args(["serve", "--config", "nope.toml"])
        .current_dir(directory.path())
        .output()
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope.toml"));
}

#[tokio::test]
async fn migrate_applies_the_schema_and_is_idempotent() {
    let directory = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let output = tessera()
            .arg("migrate")
            .current_dir(directory.path())
            .output()
            .await
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(directory.path().join("tessera-data/tessera.db").exists());
}

#[tokio::test]
async fn keys_rotate_publishes_successors_and_list_shows_the_schedule() {
    let directory = tempfile::tempdir().unwrap();
    let run = |args: &'static [&'static str]| {
        let mut command = tessera();
        command.args(args).current_dir(directory.path());
        command
    };
    let listed = run(&["keys", "list"]).output().await.unwrap();
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let before = String::from_utf8_lossy(&listed.stdout).lines().count();
    assert_eq!(before, 4, "a header and one key per algorithm");
    let rotated = run(&[
        "keys",
        "rotate",
        "--algorithm",
        "ES256",
        "--publish-ahead",
        "600",
    ])
    .output()
    .await
    .unwrap();
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let text = String::from_utf8_lossy(&rotated.stdout);
    let es256: Vec<&str> = text.lines().filter(|l| l.starts_with("ES256 ")).collect();
    // The announcement, then the old key (now with a retirement) and the new one.
    assert_eq!(es256.len(), 3, "{text}");
    assert!(!es256[1].ends_with(" -"), "the old key retires: {text}");
    assert!(es256[2].ends_with(" -"), "the new key does not: {text}");
    let wrong = run(&["keys", "rotate", "--algorithm", "HS256"])
        .output()
        .await
        .unwrap();
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("--algorithm"));
}

/// A24: a whole sign-in journey at debug level leaves no password, secret, token or
/// cookie in the log.
#[tokio::test]
async fn a24_secrets_of_the_sign_in_flow_never_reach_the_logs() {
    use crate::harness::{BOOTSTRAP_TOKEN, TestServer};
    use crate::oidc_support::*;
    let directory = tempfile::tempdir().unwrap();
    let mut child = tessera()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TESSERA_ADMIN_TOKEN", BOOTSTRAP_TOKEN)
        .current_dir(directory.path())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (address, log) = wait_for_address(&mut child).await;
    let server = TestServer {
        base: format!("http://{address}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        mail: std::sync::Arc::new(tessera_test_support::smtp_sink::SmtpSink::start().await),
        sms: std::sync::Arc::new(tessera_test_support::sms_provider::SmsProvider::start().await),
        database_url: format!(
            "sqlite://{}",
            directory.path().join("tessera-data/tessera.db").display()
        ),
    };
    let rp = register(&server, serde_json::json!({})).await;
    user(&server, "ada@example.com").await;
    let (browser, tokens) =
        tokens_for(&server, &rp, "ada@example.com", "openid offline_access").await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let refreshed = token_request(
        &server,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await
    .expect(200);
    // A failed sign-in with the canary password of another account, too.
    let mut other = Browser::default();
    let (_, challenge) = pkce();
    let first = other
        .get(
            &server,
            &format!(
                "/oauth2/authorize?{}",
                authorize_query(&rp, &challenge, &[])
            ),
        )
        .await;
    let login = other.follow(&server, first).await;
    let csrf = login.field("csrf").unwrap();
    let auth = login.field("auth").unwrap();
    other
        .post(
            &server,
            "/login/password",
            &[
                ("csrf", &csrf),
                ("auth", &auth),
                ("email", "nobody@example.com"),
                ("password", PASSWORD),
            ],
            None,
        )
        .await;
    drop(child);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all = log.lock().unwrap().join("\n");
    let mut secrets: Vec<(&str, String)> = vec![
        ("password", PASSWORD.to_owned()),
        ("client secret", rp.secret.clone().unwrap()),
        (
            "access token",
            tokens["access_token"].as_str().unwrap().to_owned(),
        ),
        ("refresh token", refresh.to_owned()),
        (
            "rotated refresh token",
            refreshed.body["refresh_token"].as_str().unwrap().to_owned(),
        ),
        ("id token", tokens["id_token"].as_str().unwrap().to_owned()),
        ("pending request handle", auth),
        ("csrf token", csrf),
    ];
    for (name, value) in &browser.cookies {
        secrets.push((
            if name.contains("session") {
                "session cookie"
            } else {
                "cookie"
            },
            value.clone(),
        ));
    }
    for (what, value) in secrets {
        assert!(!all.contains(&value), "the {what} leaked into the log");
    }
    assert!(all.contains("/oauth2/token"), "requests are logged by path");
}
