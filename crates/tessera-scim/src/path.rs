//! PATCH paths (RFC 7644 §3.5.2): `PATH = attrPath / valuePath [subAttr]`, for example
//! `name.familyName`, `members[value eq "2819c223"]` or
//! `addresses[type eq "work"].streetAddress`. Same lexer, parser and limits as filters;
//! every syntax error is `invalidPath`.

use crate::attr_path::{AttrPath, parse_attr_word};
use crate::error::ScimError;
use crate::filter::Filter;
use crate::filter::lexer::{Token, TokenKind};
use crate::filter::parser::Parser;
use crate::limits::Limits;
use crate::syntax::{Subject, SyntaxError};

/// A parsed PATCH path.
///
/// With a filter, `attr.name` is the multi-valued attribute whose values the filter selects
/// and `attr.sub` the sub-attribute written after `]`; without one, `attr` is a plain
/// attribute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchPath {
    pub attr: AttrPath,
    /// The value selection filter between `[` and `]`.
    pub filter: Option<Filter>,
}

impl PatchPath {
    /// Parses a path with the default [`Limits`].
    pub fn parse(text: &str) -> Result<Self, ScimError> {
        Self::parse_with(text, &Limits::DEFAULT)
    }

    /// Parses a path with the given limits.
    pub fn parse_with(text: &str, limits: &Limits) -> Result<Self, ScimError> {
        parse(text, limits).map_err(|error| error.into_scim(Subject::Path))
    }
}

fn parse(text: &str, limits: &Limits) -> Result<PatchPath, SyntaxError> {
    let mut parser = Parser::new(text, limits)?;
    let (word, at) = match parser.advance() {
        Some(Token {
            kind: TokenKind::Word(word),
            at,
        }) => (word, at),
        _ => {
            return Err(SyntaxError::at(
                0,
                crate::syntax::Reason::Expected("an attribute path"),
            ));
        }
    };
    let mut attr = parse_attr_word(word).map_err(|reason| SyntaxError::at(at, reason))?;
    let mut filter = None;
    if let Some(open) = parser
        .peek()
        .filter(|token| token.kind == TokenKind::OpenBracket)
    {
        let open_at = open.at;
        filter = Some(parser.value_filter(&attr, 0, open_at)?);
        attr.sub = parser.trailing_sub_attribute()?;
    }
    parser.finish(if filter.is_some() {
        "'.' and a sub-attribute, or the end"
    } else {
        "the end"
    })?;
    Ok(PatchPath { attr, filter })
}

impl std::fmt::Display for PatchPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.filter {
            None => write!(f, "{}", self.attr),
            Some(filter) => {
                write!(f, "{}[{filter}]", self.attr.parent())?;
                match &self.attr.sub {
                    Some(sub) => write!(f, ".{sub}"),
                    None => Ok(()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScimType;
    use crate::filter::{CompValue, CompareOp};

    #[test]
    fn parses_the_rfc_forms() {
        let path = PatchPath::parse(r#"addresses[type eq "work"].streetAddress"#).unwrap();
        assert_eq!(
            path.attr,
            AttrPath::new("addresses").with_sub("streetAddress")
        );
        assert_eq!(
            path.filter,
            Some(Filter::compare(
                AttrPath::new("type"),
                CompareOp::Eq,
                CompValue::String("work".into())
            ))
        );
        assert_eq!(
            path.to_string(),
            r#"addresses[type eq "work"].streetAddress"#
        );

        let path = PatchPath::parse("name.familyName").unwrap();
        assert_eq!(
            (path.attr.sub.as_deref(), path.filter),
            (Some("familyName"), None)
        );

        let path = PatchPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        )
        .unwrap();
        assert_eq!(
            path.attr.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );

        let text = r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#;
        assert_eq!(PatchPath::parse(text).unwrap().to_string(), text);
    }

    #[test]
    fn refuses_malformed_paths_with_invalid_path() {
        for bad in [
            "",
            "emails[",
            "emails[type eq \"work\"",
            "emails[type eq \"work\"]value",
            "emails[type eq \"work\"].value.x",
            "emails[type eq \"work\"].1x",
            "name.familyName[type eq \"x\"]",
            "emails type",
            "emails]",
            "(emails)",
            "emails[emails[type pr]]",
            "emails[type eq]",
        ] {
            let error = PatchPath::parse(bad).unwrap_err();
            assert_eq!(
                error.scim_type,
                Some(ScimType::InvalidPath),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn enforces_limits() {
        let deep = format!("emails[{}type pr{}]", "(".repeat(20), ")".repeat(20));
        assert!(
            PatchPath::parse(&deep)
                .unwrap_err()
                .detail
                .contains("deeper than 16")
        );
        let long = format!("a{}", "b".repeat(5000));
        assert!(
            PatchPath::parse(&long)
                .unwrap_err()
                .detail
                .contains("longer than 4096")
        );
    }
}
