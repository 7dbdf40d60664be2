//! Attribute paths (RFC 7644 §3.10 `attrPath`): an optional schema URN, an attribute name
//! and at most one sub-attribute, as in
//! `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
//! Names keep the spelling the client used; every comparison ignores ASCII case, as
//! RFC 7643 §2.1 makes attribute names and schema URIs case-insensitive.

use crate::error::ScimError;
use crate::syntax::{Reason, Subject, SyntaxError};

/// A parsed attribute path.
///
/// Fields are public so that later layers can match on them. A path built by hand must hold
/// names the grammar accepts, or its printed form will not parse back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The schema URN prefix, without the trailing `:` (None: the resource's core schema).
    pub urn: Option<String>,
    /// The attribute name.
    pub name: String,
    /// The sub-attribute after `.`, if any.
    pub sub: Option<String>,
}

impl AttrPath {
    /// An unprefixed attribute with no sub-attribute.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            urn: None,
            name: name.into(),
            sub: None,
        }
    }

    /// This path with a schema URN prefix.
    pub fn with_urn(mut self, urn: impl Into<String>) -> Self {
        self.urn = Some(urn.into());
        self
    }

    /// This path with a sub-attribute.
    pub fn with_sub(mut self, sub: impl Into<String>) -> Self {
        self.sub = Some(sub.into());
        self
    }

    /// Parses one attribute path; errors are `invalidPath`.
    pub fn parse(text: &str) -> Result<Self, ScimError> {
        parse_attr_word(text.trim()).map_err(|reason| {
            let error = if text.trim().is_empty() {
                SyntaxError::whole(Reason::Empty)
            } else {
                SyntaxError::at(0, reason)
            };
            error.into_scim(Subject::Path)
        })
    }

    /// True when the path is a bare attribute name (no URN, no sub-attribute).
    pub fn is_simple(&self) -> bool {
        self.urn.is_none() && self.sub.is_none()
    }

    /// The same attribute without its sub-attribute.
    pub fn parent(&self) -> Self {
        Self {
            urn: self.urn.clone(),
            name: self.name.clone(),
            sub: None,
        }
    }

    /// Compares the name and sub-attribute ignoring case; a missing URN on either side
    /// matches any URN (the caller resolves URNs against its schemas when that matters).
    pub fn matches(&self, other: &AttrPath) -> bool {
        let urn_ok = match (&self.urn, &other.urn) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => true,
        };
        let sub_ok = match (&self.sub, &other.sub) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            (None, None) => true,
            _ => false,
        };
        urn_ok && sub_ok && self.name.eq_ignore_ascii_case(&other.name)
    }
}

impl std::fmt::Display for AttrPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// Whether `name` is an `ATTRNAME` (RFC 7643 §2.1: `ALPHA *(nameChar)`), or `$ref`-style
/// (a `$` then an `ATTRNAME`), which RFC 7643 uses for reference sub-attributes.
pub(crate) fn is_attr_name(name: &str) -> bool {
    let rest = name.strip_prefix('$').unwrap_or(name);
    let mut chars = rest.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Whether a JSON member name is a schema URN (`urn:…`) rather than an attribute name.
pub(crate) fn looks_like_urn(name: &str) -> bool {
    name.get(..4)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("urn:"))
}

/// Whether `urn` is a URN prefix this crate accepts: `urn:` and at least one more segment,
/// each segment non-empty letters, digits, `.`, `-` or `_`.
fn is_urn(urn: &str) -> bool {
    let mut segments = urn.split(':');
    let scheme_ok = segments
        .next()
        .is_some_and(|s| s.eq_ignore_ascii_case("urn"));
    let mut count = 0;
    let rest_ok = segments.all(|segment| {
        count += 1;
        !segment.is_empty()
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    });
    scheme_ok && rest_ok && count >= 1
}

/// Parses one lexical word as an attribute path. A word with a `:` must start with `urn:`;
/// the URN ends at the last `:` (attribute names hold no `:`), and the rest is
/// `name[.sub]`.
pub(crate) fn parse_attr_word(word: &str) -> Result<AttrPath, Reason> {
    let (urn, rest) = match word.rfind(':') {
        Some(colon) => {
            let urn = word.get(..colon).unwrap_or_default();
            let rest = word.get(colon + 1..).unwrap_or_default();
            if !is_urn(urn) {
                return Err(Reason::InvalidUrn);
            }
            (Some(urn.to_owned()), rest)
        }
        None => (None, word),
    };
    let mut parts = rest.split('.');
    let name = parts.next().unwrap_or_default();
    let sub = parts.next();
    if parts.next().is_some() {
        return Err(Reason::TooManySubAttributes);
    }
    if !is_attr_name(name) || sub.is_some_and(|sub| !is_attr_name(sub)) {
        return Err(Reason::InvalidAttributeName);
    }
    Ok(AttrPath {
        urn,
        name: name.to_owned(),
        sub: sub.map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    #[test]
    fn parses_prefixed_and_sub_attribute_paths() {
        let path = AttrPath::parse(&format!("{ENTERPRISE}:manager.value")).unwrap();
        assert_eq!(
            path,
            AttrPath::new("manager")
                .with_urn(ENTERPRISE)
                .with_sub("value")
        );
        assert_eq!(path.to_string(), format!("{ENTERPRISE}:manager.value"));
        assert_eq!(
            AttrPath::parse("name.familyName").unwrap().sub.as_deref(),
            Some("familyName")
        );
        assert_eq!(
            AttrPath::parse("members.$ref").unwrap().sub.as_deref(),
            Some("$ref")
        );
        assert!(AttrPath::parse("urn:acme:x-1:v2.0:Thing:loyalty_tier").is_ok());
    }

    #[test]
    fn refuses_malformed_paths() {
        for bad in [
            "",
            "1abc",
            "a.b.c",
            "a..b",
            "http://x:y",
            "urn::a",
            "urn:a b:c",
            ":x",
            "a.",
            "na me",
        ] {
            let error = AttrPath::parse(bad).unwrap_err();
            assert_eq!(error.scim_type, Some(crate::ScimType::InvalidPath), "{bad}");
        }
    }

    #[test]
    fn matching_ignores_case_and_missing_urns() {
        let a = AttrPath::new("userName");
        assert!(a.matches(&AttrPath::new("USERNAME")));
        assert!(a.matches(&AttrPath::new("username").with_urn("urn:x:y")));
        assert!(!a.matches(&AttrPath::new("userName").with_sub("x")));
        let b = AttrPath::new("x").with_urn("URN:A:B");
        assert!(b.matches(&AttrPath::new("X").with_urn("urn:a:b")));
        assert!(!b.matches(&AttrPath::new("x").with_urn("urn:a:c")));
    }
}
