//! `If-Match` and `If-None-Match` (RFC 7644 §3.14, RFC 9110 §13) over weak ETags
//! `W/"<version>"`: `If-Match` becomes the expected version of a write, so a stale ETag and
//! a concurrent writer both end in 412 without a read-then-write race.

use axum::http::{HeaderMap, header};
use tessera_scim::mapping::version_of;

/// A version no resource has: an `If-Match` that names nothing we issued matches nothing.
const NO_VERSION: i64 = -1;

/// The versions an `If-Match` names; `None` without one or with `*`. Tags that name no
/// version we issued are left out, so a list of only those matches nothing.
pub fn if_match_tags(headers: &HeaderMap) -> Option<Vec<i64>> {
    let value = headers.get(header::IF_MATCH)?.to_str().unwrap_or("");
    let tags: Vec<&str> = value.split(',').map(str::trim).collect();
    if tags.contains(&"*") {
        return None;
    }
    Some(tags.iter().filter_map(|tag| version_of(tag)).collect())
}

/// The version a write must find: the one tag named, or — when several are named — the
/// current version if it is among them (RFC 9110 §13.1.1: any may match). The write then
/// names that version, so a concurrent change still ends in 412.
pub async fn expected_version<F>(
    tags: Option<Vec<i64>>,
    current: F,
) -> Result<Option<i64>, super::ScimFailure>
where
    F: std::future::Future<Output = Result<i64, super::ScimFailure>>,
{
    match tags.as_deref() {
        None => Ok(None),
        Some([one]) => Ok(Some(*one)),
        Some([]) => Ok(Some(NO_VERSION)),
        Some(several) => {
            let version = current.await?;
            Ok(Some(if several.contains(&version) {
                version
            } else {
                NO_VERSION
            }))
        }
    }
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
    fn if_match_names_versions_any_or_nothing_we_issued() {
        assert_eq!(if_match_tags(&HeaderMap::new()), None);
        assert_eq!(if_match_tags(&with(header::IF_MATCH, "*")), None);
        assert_eq!(
            if_match_tags(&with(header::IF_MATCH, r#"W/"3""#)),
            Some(vec![3])
        );
        assert_eq!(
            if_match_tags(&with(header::IF_MATCH, r#""x", W/"4", W/"5""#)),
            Some(vec![4, 5])
        );
        assert_eq!(
            if_match_tags(&with(header::IF_MATCH, "garbage")),
            Some(vec![])
        );
    }

    #[tokio::test]
    async fn any_listed_tag_may_match_the_current_version() {
        let current = |v: i64| async move { Ok::<_, crate::scim::ScimFailure>(v) };
        assert_eq!(expected_version(None, current(2)).await.unwrap(), None);
        assert_eq!(
            expected_version(Some(vec![1]), current(2)).await.unwrap(),
            Some(1)
        );
        assert_eq!(
            expected_version(Some(vec![1, 2]), current(2))
                .await
                .unwrap(),
            Some(2)
        );
        assert_eq!(
            expected_version(Some(vec![1, 3]), current(2))
                .await
                .unwrap(),
            Some(NO_VERSION)
        );
        assert_eq!(
            expected_version(Some(vec![]), current(2)).await.unwrap(),
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
