//! The tenant's external captcha on the hosted pages, on both backends, against a local fake
//! provider (`TESSERA_CAPTCHA_SITEVERIFY_URL`): the secret is write-only; the password and
//! sign-up forms embed the provider's widget, with its origins in the page's CSP; a
//! submission without a token, with a refused one, or while the provider is down (fail
//! closed) is asked again; a passing token lets it on, and the provider saw the secret, the
//! token and the person's address.

use crate::harness::{TestServer, with_server_env};
use crate::oidc_support::{Browser, PASSWORD, Page, user};
use crate::risk::password_page;
use reqwest::Method;
use serde_json::json;
use std::sync::Arc;
use tessera_test_support::Backend;
use tessera_test_support::captcha_provider::FakeCaptcha;

const SECRET: &str = "canary-captcha-secret-page-77";
const SITE_KEY: &str = "site-key-turnstile-1";
const FIELD: &str = "cf-turnstile-response";

async fn configure(server: &TestServer) {
    server
        .admin(
            Method::PATCH,
            "/admin/v1/tenants/default",
            Some(json!({"settings": {
                "signup": {"enabled": true},
                "bot_defence": {
                    "pow": "off",
                    "captcha": {"provider": "turnstile", "site_key": SITE_KEY, "trigger": "always"},
                },
            }})),
        )
        .await
        .expect(200);
    let status = server
        .admin(Method::GET, "/admin/v1/captcha-secret", None)
        .await
        .expect(200);
    assert_eq!(status.body["secret_set"], false);
    server
        .admin(
            Method::PUT,
            "/admin/v1/captcha-secret",
            Some(json!({"secret": "has spaces"})),
        )
        .await
        .expect_problem(422, "validation");
    server
        .admin(
            Method::PUT,
            "/admin/v1/captcha-secret",
            Some(json!({"secret": SECRET})),
        )
        .await
        .expect(204);
    let status = server
        .admin(Method::GET, "/admin/v1/captcha-secret", None)
        .await
        .expect(200);
    assert_eq!(status.body["secret_set"], true);
    let tenant = server
        .admin(Method::GET, "/admin/v1/tenants/default", None)
        .await
        .expect(200);
    assert!(!tenant.body.to_string().contains(SECRET), "write-only");
}

async fn post_password(
    server: &TestServer,
    browser: &mut Browser,
    page: &Page,
    email: &str,
    token: Option<&str>,
) -> Page {
    let csrf = page.field("csrf").unwrap();
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("auth", ""),
        ("email", email),
        ("password", PASSWORD),
    ];
    if let Some(token) = token {
        fields.push((FIELD, token));
    }
    let origin = server.base.clone();
    browser
        .post(server, "/login/password", &fields, Some(&origin))
        .await
}

/// The widget and the policy that lets it load.
fn assert_widget(page: &Page) {
    assert!(
        page.body.contains(&format!(
            "class=\"captcha cf-turnstile\" data-sitekey=\"{SITE_KEY}\""
        )),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(
            "src=\"https:&#x2f;&#x2f;challenges.cloudflare.com&#x2f;turnstile&#x2f;v0&#x2f;api.js\""
        ) || page
            .body
            .contains("src=\"https://challenges.cloudflare.com/turnstile/v0/api.js\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("data-language=\"en\""), "{}", page.body);
    let policy = page.headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "script-src 'nonce-",
        "frame-src https://challenges.cloudflare.com",
    ] {
        assert!(policy.contains(directive), "{policy}");
    }
    assert!(
        policy.split(';').any(|d| d.trim().starts_with("script-src")
            && d.contains("https://challenges.cloudflare.com")),
        "{policy}"
    );
}

async fn the_tenants_captcha_guards_sign_in_and_sign_up(
    server: TestServer,
    provider: Arc<FakeCaptcha>,
) {
    configure(&server).await;
    user(&server, "cam@example.com").await;
    let mut browser = Browser::default();
    let page = password_page(&server, &mut browser, "cam@example.com").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_widget(&page);

    // No token, then a refused one: asked again, no session.
    for token in [None, Some("fail-nope")] {
        let again = post_password(&server, &mut browser, &page, "cam@example.com", token).await;
        assert_eq!(again.status, 200, "{}", again.body);
        assert!(
            again.body.contains("complete the check below"),
            "{}",
            again.body
        );
        assert_widget(&again);
        assert!(!browser.cookies.contains_key("tessera-session"));
    }
    // The provider down: fail closed.
    provider.fail_with(500);
    let down = post_password(
        &server,
        &mut browser,
        &page,
        "cam@example.com",
        Some("pass-1"),
    )
    .await;
    assert_eq!(down.status, 200, "{}", down.body);
    assert!(!browser.cookies.contains_key("tessera-session"));
    provider.recover();

    let signed_in = post_password(
        &server,
        &mut browser,
        &page,
        "cam@example.com",
        Some("pass-2"),
    )
    .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert!(browser.cookies.contains_key("tessera-session"));
    let last = provider.received().pop().unwrap();
    assert_eq!(last.field("secret"), Some(SECRET));
    assert_eq!(last.field("response"), Some("pass-2"));
    assert_eq!(last.field("remoteip"), Some("127.0.0.1"));

    // Sign-up carries the widget too.
    let mut browser = Browser::default();
    let form = browser.get(&server, "/signup").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert_widget(&form);
    let origin = server.base.clone();
    let csrf = form.field("csrf").unwrap();
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("auth", ""),
        ("email", "new.cam@example.com"),
        ("password", "a long and unusual sign-up passphrase"),
    ];
    let refused = browser
        .post(&server, "/signup", &fields, Some(&origin))
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_widget(&refused);
    fields.push((FIELD, "pass-3"));
    let sent = browser
        .post(&server, "/signup", &fields, Some(&origin))
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
}

async fn run(backend: Backend) {
    let provider = Arc::new(FakeCaptcha::start(SECRET).await);
    let url = provider.url();
    with_server_env(
        backend,
        &[("TESSERA_CAPTCHA_SITEVERIFY_URL", url.as_str())],
        |server| the_tenants_captcha_guards_sign_in_and_sign_up(server, provider.clone()),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_the_tenants_captcha_guards_sign_in_and_sign_up() {
    run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_tenants_captcha_guards_sign_in_and_sign_up() {
    run(Backend::Postgres).await;
}
