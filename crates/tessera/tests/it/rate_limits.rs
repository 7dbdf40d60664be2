//! Per-address rate limits over HTTP (A02): one address trying one password on many
//! accounts gets fast `429`s with `Retry-After` and locks no account; behind a trusted proxy
//! the client named in `X-Forwarded-For` is limited (and recorded), not the proxy; a client
//! talking directly cannot choose its address.

use crate::harness::{TestServer, with_server_env};
use crate::oidc_support::{Browser, user};
use reqwest::Method;
use tessera_test_support::Backend;

/// Posts a wrong password for `email` through the real form (CSRF cookie and token), from
/// `forwarded_for` if given; the status, `Retry-After` and body.
async fn guess(
    server: &TestServer,
    email: &str,
    forwarded_for: Option<&str>,
) -> (u16, Option<u64>, String) {
    let mut browser = Browser::default();
    let login = browser.get(server, "/login").await;
    let csrf = login.field("csrf").unwrap();
    let cookies = browser
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("csrf", csrf.as_str()),
            ("auth", ""),
            ("email", email),
            ("password", "summer2026 is not it"),
        ])
        .finish();
    let mut request = server
        .client
        .post(format!("{}/login/password", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", &server.base)
        .header("cookie", cookies)
        .body(body);
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let wait = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (status, wait, response.text().await.unwrap())
}

async fn a02_one_address_guessing_across_accounts_is_slowed_and_locks_nobody(server: TestServer) {
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(user(&server, &format!("u{n}@example.com")).await);
    }
    let mut statuses = Vec::new();
    let mut pages = Vec::new();
    for _round in 0..3 {
        for n in 0..4 {
            let (status, wait, body) = guess(&server, &format!("u{n}@example.com"), None).await;
            statuses.push(status);
            if status == 429 {
                assert!(wait.is_some_and(|w| (1..=60).contains(&w)), "{wait:?}");
                assert!(body.contains("Too many attempts"));
            } else {
                pages.push(
                    body.split("<main")
                        .nth(1)
                        .unwrap()
                        .split("name=\"csrf\"")
                        .next()
                        .unwrap()
                        .to_owned(),
                );
            }
        }
    }
    // A burst of 5 (a quarter of 20 a minute), then 429s.
    assert_eq!(&statuses[..5], &[200; 5], "{statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    assert!(
        pages.windows(2).all(|w| w[0]
            .replace("u0", "uN")
            .replace("u1", "uN")
            .replace("u2", "uN")
            .replace("u3", "uN")
            == w[1]
                .replace("u0", "uN")
                .replace("u1", "uN")
                .replace("u2", "uN")
                .replace("u3", "uN")),
        "identical answers"
    );
    for id in ids {
        let security = server
            .admin(Method::GET, &format!("/admin/v1/users/{id}/security"), None)
            .await
            .expect(200);
        let failures = security.body["locks"][0]["failures"].as_u64().unwrap_or(0);
        assert!(
            failures <= 2,
            "no account is locked by it: {}",
            security.body
        );
    }
}

async fn behind_a_trusted_proxy_the_forwarded_client_is_limited(server: TestServer) {
    for _ in 0..5 {
        assert_eq!(
            guess(&server, "x@example.com", Some("198.51.100.1"))
                .await
                .0,
            200
        );
    }
    assert_eq!(
        guess(&server, "x@example.com", Some("198.51.100.1"))
            .await
            .0,
        429
    );
    // Another client behind the same proxy is not affected; the client's own claims left of
    // the proxy's entry do not matter.
    assert_eq!(
        guess(&server, "x@example.com", Some("6.6.6.6, 198.51.100.2"))
            .await
            .0,
        200
    );
    // The sign-in events name the client, not the proxy.
    let events = server
        .admin(Method::GET, "/admin/v1/events?type=sign_in.failed", None)
        .await
        .expect(200);
    let ips: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["payload"]["ip"].as_str())
        .collect();
    assert!(
        ips.contains(&"198.51.100.1") && ips.contains(&"198.51.100.2"),
        "{ips:?}"
    );
    assert!(!ips.contains(&"127.0.0.1"), "{ips:?}");
}

async fn a_direct_client_cannot_choose_its_address(server: TestServer) {
    for n in 0..5 {
        let spoofed = format!("203.0.113.{n}");
        assert_eq!(guess(&server, "x@example.com", Some(&spoofed)).await.0, 200);
    }
    assert_eq!(
        guess(&server, "x@example.com", Some("203.0.113.99"))
            .await
            .0,
        429,
        "the header is ignored without trusted proxies"
    );
}

const LOW: [(&str, &str); 1] = [("TESSERA_RATE_LIMIT_SIGN_IN_PER_MINUTE", "20")];

macro_rules! rate_cases {
    ($($case:ident => $env:expr),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::with_server_env(super::Backend::Sqlite, &$env, super::$case).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::with_server_env(super::Backend::Postgres, &$env, super::$case).await
            })*
        }
    };
}

rate_cases!(
    a02_one_address_guessing_across_accounts_is_slowed_and_locks_nobody => super::LOW,
    behind_a_trusted_proxy_the_forwarded_client_is_limited => [
        ("TESSERA_RATE_LIMIT_SIGN_IN_PER_MINUTE", "20"),
        ("TESSERA_TRUSTED_PROXIES", "127.0.0.1,::1"),
    ],
    a_direct_client_cannot_choose_its_address => super::LOW,
);
