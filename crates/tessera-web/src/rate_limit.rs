//! Per-IP rate limits on the endpoints people and scripts guess at: sign-in, sign-up, code
//! verification and the token endpoint (A02). Over the limit the answer is a fast `429`
//! with `Retry-After`, before any hashing or database work.
//!
//! The client address is the TCP peer, or — only when the peer is one of the configured
//! `trusted_proxies` — the rightmost address of `X-Forwarded-For` that is not a trusted
//! proxy itself (the leftmost entries are whatever the client claimed). The resolved address
//! replaces the request's `ConnectInfo`, so that every handler, event and risk assessment
//! sees the client, not the load balancer.
//!
//! Limits are kept in memory per instance (GCRA with a monotonic clock, A55): with several
//! instances an address gets the limit once per instance. Per-account guessing is stopped
//! exactly, in the database, by the lockout counter.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tessera_core::risk::IpList;

/// Requests per minute and per client address, by kind of endpoint.
#[derive(Debug, Clone)]
pub struct RateLimitSettings {
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: IpList,
    /// Sign-in form posts: email, password, second factor.
    pub sign_in_per_minute: u32,
    /// Sign-up form posts.
    pub sign_up_per_minute: u32,
    /// One-time codes and links typed or followed: sign-up codes, phone codes, invitations.
    pub codes_per_minute: u32,
    /// The token, PAR, introspection and revocation endpoints.
    pub token_per_minute: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            trusted_proxies: IpList::default(),
            sign_in_per_minute: 30,
            sign_up_per_minute: 10,
            codes_per_minute: 30,
            token_per_minute: 600,
        }
    }
}

/// What kind of endpoint a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    SignIn,
    /// Starting a passkey ceremony: the sign-in page does it as it loads (for the email
    /// field's autofill), so it has a bucket of its own, four times the sign-in one, and
    /// reloading a page never spends a password attempt.
    Ceremony,
    SignUp,
    Codes,
    Token,
}

fn kind_of(method: &Method, path: &str) -> Option<Kind> {
    if method != Method::POST {
        return None;
    }
    match path {
        "/login" | "/login/password" | "/login/passkey" | "/mfa" | "/mfa/setup" | "/mfa/email"
        | "/mfa/setup/passkey" => Some(Kind::SignIn),
        "/login/passkey/options" | "/mfa/passkey/options" | "/mfa/setup/passkey/options" => {
            Some(Kind::Ceremony)
        }
        "/signup" | "/signup/resend" => Some(Kind::SignUp),
        "/signup/verify" | "/signup/confirm" | "/phone/verify" | "/phone/resend" | "/invite" => {
            Some(Kind::Codes)
        }
        "/oauth2/token" | "/oauth2/par" | "/oauth2/introspect" | "/oauth2/revoke" => {
            Some(Kind::Token)
        }
        _ => None,
    }
}

/// The limiters of one instance.
#[derive(Debug)]
pub struct RateLimiter {
    trusted_proxies: IpList,
    sign_in: DefaultKeyedRateLimiter<IpAddr>,
    ceremony: DefaultKeyedRateLimiter<IpAddr>,
    sign_up: DefaultKeyedRateLimiter<IpAddr>,
    codes: DefaultKeyedRateLimiter<IpAddr>,
    token: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

/// Limiters forget quiet addresses this often (in checks), so memory stays bounded.
const FORGET_EVERY: u64 = 4096;

fn quota(per_minute: u32) -> Quota {
    let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    // A burst of a quarter of the minute's allowance (at least 3), then a steady rate.
    let burst = NonZeroU32::new((per_minute.get() / 4).max(3)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(per_minute).allow_burst(burst)
}

impl RateLimiter {
    pub fn new(settings: &RateLimitSettings) -> Self {
        Self {
            trusted_proxies: settings.trusted_proxies.clone(),
            sign_in: DefaultKeyedRateLimiter::keyed(quota(settings.sign_in_per_minute)),
            ceremony: DefaultKeyedRateLimiter::keyed(quota(
                settings.sign_in_per_minute.saturating_mul(4),
            )),
            sign_up: DefaultKeyedRateLimiter::keyed(quota(settings.sign_up_per_minute)),
            codes: DefaultKeyedRateLimiter::keyed(quota(settings.codes_per_minute)),
            token: DefaultKeyedRateLimiter::keyed(quota(settings.token_per_minute)),
            checks: AtomicU64::new(0),
        }
    }

    fn limiter(&self, kind: Kind) -> &DefaultKeyedRateLimiter<IpAddr> {
        match kind {
            Kind::SignIn => &self.sign_in,
            Kind::Ceremony => &self.ceremony,
            Kind::SignUp => &self.sign_up,
            Kind::Codes => &self.codes,
            Kind::Token => &self.token,
        }
    }

    /// `None` when the request may go on, else how many seconds to wait.
    fn check(&self, kind: Kind, client: IpAddr) -> Option<u64> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            for limiter in [
                &self.sign_in,
                &self.ceremony,
                &self.sign_up,
                &self.codes,
                &self.token,
            ] {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        }
        match self.limiter(kind).check_key(&client) {
            Ok(()) => None,
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Some(wait.as_secs().max(1))
            }
        }
    }

    /// The client's address: see the module comment.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        client_ip(peer, headers, &self.trusted_proxies)
    }
}

/// The client's address behind `trusted` proxies.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &IpList) -> IpAddr {
    if !trusted.contains(peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .map(|entry| {
            entry
                .parse::<IpAddr>()
                .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        })
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    // Walk from the proxy nearest to us outwards; the first address no trusted proxy
    // vouches for is the client. Garbage anywhere: trust none of it.
    forwarded
        .iter()
        .rev()
        .find(|address| !trusted.contains(**address))
        .copied()
        .or_else(|| forwarded.first().copied())
        .unwrap_or(peer)
}

/// The middleware: resolves the client address and applies the limits.
pub async fn enforce(
    State(limiter): State<Arc<RateLimiter>>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .copied()
    {
        let client = limiter.client_ip(peer.ip(), request.headers());
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(client, peer.port())));
        if let Some(kind) = kind_of(request.method(), request.uri().path())
            && let Some(wait) = limiter.check(kind, client)
        {
            metrics::counter!("tessera_rate_limited_total", "kind" => format!("{kind:?}"))
                .increment(1);
            return too_many(kind, wait);
        }
    }
    next.run(request).await
}

fn too_many(kind: Kind, wait: u64) -> Response {
    let mut response = match kind {
        Kind::Token => (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(serde_json::json!({
                "error": "temporarily_unavailable",
                "error_description": "too many requests from this address; retry later",
            })),
        )
            .into_response(),
        _ => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Too many attempts from your network. Wait a moment, then try again.\n",
        )
            .into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(forwarded: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(forwarded).unwrap());
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_for_counts_only_behind_trusted_proxies() {
        let trusted = IpList::parse("10.0.0.0/8\n").unwrap();
        let spoofed = headers("1.2.3.4");
        // A client talking to us directly cannot choose its address.
        assert_eq!(
            client_ip(ip("203.0.113.9"), &spoofed, &trusted),
            ip("203.0.113.9")
        );
        // Behind our proxy, the rightmost untrusted entry is the client; entries to its
        // left are the client's own claims.
        let chain = headers("1.2.3.4, 198.51.100.7, 10.1.1.1");
        assert_eq!(
            client_ip(ip("10.0.0.5"), &chain, &trusted),
            ip("198.51.100.7")
        );
        // No header, or garbage: the proxy's own address.
        assert_eq!(
            client_ip(ip("10.0.0.5"), &HeaderMap::new(), &trusted),
            ip("10.0.0.5")
        );
        assert_eq!(
            client_ip(ip("10.0.0.5"), &headers("nonsense"), &trusted),
            ip("10.0.0.5")
        );
        // Nothing trusted: the header is ignored.
        assert_eq!(
            client_ip(ip("10.0.0.5"), &chain, &IpList::default()),
            ip("10.0.0.5")
        );
    }

    #[test]
    fn the_guessable_endpoints_are_limited_and_nothing_else() {
        assert_eq!(
            kind_of(&Method::POST, "/login/password"),
            Some(Kind::SignIn)
        );
        assert_eq!(kind_of(&Method::POST, "/mfa"), Some(Kind::SignIn));
        assert_eq!(kind_of(&Method::POST, "/login/passkey"), Some(Kind::SignIn));
        assert_eq!(
            kind_of(&Method::POST, "/login/passkey/options"),
            Some(Kind::Ceremony)
        );
        assert_eq!(kind_of(&Method::POST, "/signup"), Some(Kind::SignUp));
        assert_eq!(kind_of(&Method::POST, "/phone/verify"), Some(Kind::Codes));
        assert_eq!(kind_of(&Method::POST, "/oauth2/token"), Some(Kind::Token));
        assert_eq!(kind_of(&Method::GET, "/login"), None);
        assert_eq!(kind_of(&Method::POST, "/admin/v1/users"), None);
    }

    #[test]
    fn an_address_over_its_quota_waits_and_others_do_not() {
        let limiter = RateLimiter::new(&RateLimitSettings {
            sign_in_per_minute: 12,
            ..RateLimitSettings::default()
        });
        let noisy = ip("198.51.100.1");
        let passed = (0..10)
            .filter(|_| limiter.check(Kind::SignIn, noisy).is_none())
            .count();
        assert_eq!(passed, 3, "the burst");
        let wait = limiter.check(Kind::SignIn, noisy).unwrap();
        assert!((1..=5).contains(&wait), "{wait}");
        assert_eq!(limiter.check(Kind::SignIn, ip("198.51.100.2")), None);
        assert_eq!(
            limiter.check(Kind::Token, noisy),
            None,
            "limits are per kind"
        );
    }
}
