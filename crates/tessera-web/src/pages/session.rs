//! Cookies of the hosted pages: the session cookie (a random id whose digest the database
//! holds) and the CSRF cookie. Over https they are `__Host-` cookies (Secure, Path=/, no
//! Domain); over plain http (development on a laptop) browsers would drop Secure cookies,
//! so the prefix and the flag are left out. Each tenant gets its own cookie name.

use axum::http::{HeaderMap, HeaderValue, header};
use tessera_core::tenant::Tenant;

/// The cookie names of one tenant.
#[derive(Debug, Clone)]
pub struct CookieNames {
    pub session: String,
    pub csrf: String,
    /// Names a sign-in waiting for its second factor.
    pub challenge: String,
    /// A long-lived random id of the browser, so that sign-ins from a new one stand out.
    pub device: String,
    secure: bool,
}

impl CookieNames {
    pub fn new(tenant: &Tenant, secure: bool) -> Self {
        let prefix = if secure { "__Host-" } else { "" };
        let suffix = if tenant.is_default() {
            String::new()
        } else {
            format!("-{}", tenant.slug.as_str())
        };
        Self {
            session: format!("{prefix}tessera-session{suffix}"),
            csrf: format!("{prefix}tessera-csrf{suffix}"),
            challenge: format!("{prefix}tessera-mfa{suffix}"),
            device: format!("{prefix}tessera-device{suffix}"),
            secure,
        }
    }

    fn attributes(&self) -> &'static str {
        if self.secure {
            "; Path=/; HttpOnly; Secure; SameSite=Lax"
        } else {
            "; Path=/; HttpOnly; SameSite=Lax"
        }
    }

    /// `Set-Cookie` for a session cookie that lasts as long as the browser keeps it; the
    /// server decides when the session ends.
    pub fn set_session(&self, value: &str) -> Option<HeaderValue> {
        HeaderValue::from_str(&format!("{}={value}{}", self.session, self.attributes())).ok()
    }

    pub fn clear_session(&self) -> Option<HeaderValue> {
        HeaderValue::from_str(&format!(
            "{}=; Max-Age=0{}",
            self.session,
            self.attributes()
        ))
        .ok()
    }

    pub fn set_challenge(&self, value: &str) -> Option<HeaderValue> {
        HeaderValue::from_str(&format!("{}={value}{}", self.challenge, self.attributes())).ok()
    }

    pub fn clear_challenge(&self) -> Option<HeaderValue> {
        HeaderValue::from_str(&format!(
            "{}=; Max-Age=0{}",
            self.challenge,
            self.attributes()
        ))
        .ok()
    }

    /// The device cookie lasts about 400 days (the longest browsers keep a cookie).
    pub fn set_device(&self, value: &str) -> Option<HeaderValue> {
        HeaderValue::from_str(&format!(
            "{}={value}; Max-Age=34560000{}",
            self.device,
            self.attributes()
        ))
        .ok()
    }

    pub fn set_csrf(&self, value: &str) -> Option<HeaderValue> {
        HeaderValue::from_str(&format!("{}={value}{}", self.csrf, self.attributes())).ok()
    }
}

/// The value of the cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}
