//! CSRF protection of every hosted form (A18): a random token in a cookie that the form
//! echoes (double submit, compared in constant time), and an `Origin` check when the
//! browser sends one. A failed check is a 403 and nothing changes.

use super::session::CookieNames;
use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use subtle::ConstantTimeEq;

/// The token in the browser's cookie, or a new one to set.
#[derive(Debug, Clone)]
pub struct CsrfToken {
    pub value: String,
    /// The cookie must be (re)set because the browser had none.
    pub is_new: bool,
}

/// The browser's token, or a fresh one.
pub fn token(headers: &HeaderMap, names: &CookieNames) -> CsrfToken {
    match super::session::cookie(headers, &names.csrf) {
        Some(value) if value.len() == 43 => CsrfToken {
            value: value.to_owned(),
            is_new: false,
        },
        _ => {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            CsrfToken {
                value: URL_SAFE_NO_PAD.encode(bytes),
                is_new: true,
            }
        }
    }
}

/// Whether a form submission carries the browser's token and comes from our origin.
pub fn is_valid(
    headers: &HeaderMap,
    names: &CookieNames,
    submitted: Option<&str>,
    origin: &str,
) -> bool {
    let Some(cookie) = super::session::cookie(headers, &names.csrf) else {
        return false;
    };
    let Some(submitted) = submitted else {
        return false;
    };
    let same_token: bool = cookie.as_bytes().ct_eq(submitted.as_bytes()).into();
    let same_origin = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
        // `null` is what browsers send under `Referrer-Policy: no-referrer`; the token decides.
        .is_none_or(|sent| sent == origin || sent == "null");
    same_token && same_origin && cookie.len() == 43
}
