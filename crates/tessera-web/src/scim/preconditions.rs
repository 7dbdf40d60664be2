//! `If-Match` and `If-None-Match` (RFC 7644 §3.14, RFC 9110 §13) over weak ETags
//! `W/"<version>"`: `If-Match` becomes the expected version of a write, so a stale ETag and
//! a concurrent writer both end in 412 without a read-then-write race.

use axum::http::{HeaderMap, header};
use tessera_scim::mapping::version_of;

/// A version no resource has: an `If-Match` that names nothing we issued matches nothing.
const NO_VERSION: i64 = -1;

/// The version a write must find; `None` without `If-Match` or with `*`.
pub fn if_match(headers: &HeaderMap) -> Option<i64> {
    let value = headers.get(header::IF_MATCH)?.to_str().unwrap_or("");
    let tags: Vec<&str> = value.split(',').map(str::trim).collect();
    if tags.contains(&"*") {
        return None;
    }
    // Several tags are allowed; one version can match only one of them.
    Some(
        tags.iter()
            .find_map(|tag| version_of(tag))
            .unwrap_or(NO_VERSION),
    )
}

/// Whether a read may answer 304: `If-None-Match` names the current version (or `*`).
pub fn not_modified(headers: &HeaderMap, version: i64) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || version_of(tag) == Some(version))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn if_match_names_a_version_any_or_nothing_we_issued() {
        assert_eq!(if_match(&HeaderMap::new()), None);
        assert_eq!(if_match(&with(header::IF_MATCH, "*")), None);
        assert_eq!(if_match(&with(header::IF_MATCH, "W/\"3\"")), Some(3));
        assert_eq!(if_match(&with(header::IF_MATCH, "\"x\", W/\"4\"")), Some(4));
        assert_eq!(
            if_match(&with(header::IF_MATCH, "garbage")),
            Some(NO_VERSION)
        );
    }

    #[test]
    fn if_none_match_matches_the_current_version_only() {
        assert!(not_modified(&with(header::IF_NONE_MATCH, "W/\"2\""), 2));
        assert!(!not_modified(&with(header::IF_NONE_MATCH, "W/\"1\""), 2));
        assert!(not_modified(&with(header::IF_NONE_MATCH, "*"), 2));
        assert!(!not_modified(&HeaderMap::new(), 2));
    }
}
