//! Syntax errors shared by the filter, PATCH path and attribute-list parsers. The reason is
//! a closed set of messages that name the grammar, never the input (which may hold secrets),
//! and the byte offset tells the caller where to look.

use crate::error::ScimError;

/// What was being parsed: decides the `scimType` and the wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subject {
    Filter,
    Path,
    AttributeList,
}

/// Why the input was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reason {
    Empty,
    TooLong(usize),
    TooDeep(usize),
    TooManyTerms(usize),
    UnterminatedString,
    InvalidString,
    Expected(&'static str),
    InvalidAttributeName,
    InvalidUrn,
    TooManySubAttributes,
    NestedValuePath,
    QualifiedInValueFilter,
    SubAttributeBeforeFilter,
    SubAttributeAfterFilter,
    OperatorNeedsString(&'static str),
    OperatorNeedsOrdered(&'static str),
    UnbalancedClose,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => f.write_str("it is empty"),
            Self::TooLong(max) => write!(f, "it is longer than {max} bytes"),
            Self::TooDeep(max) => {
                write!(f, "parentheses, 'not' and brackets nest deeper than {max} levels")
            }
            Self::TooManyTerms(max) => write!(f, "it has more than {max} attribute expressions"),
            Self::UnterminatedString => f.write_str("a string is not terminated"),
            Self::InvalidString => {
                f.write_str("a string has an invalid escape or an unescaped control character")
            }
            Self::Expected(what) => write!(f, "expected {what}"),
            Self::InvalidAttributeName => f.write_str(
                "an attribute name must start with a letter and hold only letters, digits, '-' and '_'",
            ),
            Self::InvalidUrn => f.write_str(
                "a schema prefix must be a URN of ':'-separated letters, digits, '.', '-' and '_'",
            ),
            Self::TooManySubAttributes => f.write_str("an attribute path has at most one sub-attribute"),
            Self::NestedValuePath => f.write_str("value filters '[…]' cannot nest"),
            Self::QualifiedInValueFilter => {
                f.write_str("inside '[…]' name a sub-attribute alone, without prefix or '.'")
            }
            Self::SubAttributeBeforeFilter => {
                f.write_str("a value filter '[…]' applies to an attribute, not a sub-attribute")
            }
            Self::SubAttributeAfterFilter => {
                f.write_str("a sub-attribute after ']' is allowed only in PATCH paths")
            }
            Self::OperatorNeedsString(op) => write!(f, "'{op}' compares with a string"),
            Self::OperatorNeedsOrdered(op) => {
                write!(f, "'{op}' compares with a string or a number, not true, false or null")
            }
            Self::UnbalancedClose => f.write_str("a closing ')' or ']' has no opening one"),
        }
    }
}

/// A refused input: why, and at which byte (None when the input as a whole is refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) at: Option<usize>,
    pub(crate) reason: Reason,
}

impl SyntaxError {
    pub(crate) fn at(at: usize, reason: Reason) -> Self {
        Self {
            at: Some(at),
            reason,
        }
    }

    pub(crate) fn whole(reason: Reason) -> Self {
        Self { at: None, reason }
    }

    /// The SCIM error: `invalidFilter` for filters, `invalidPath` for paths and attribute lists.
    pub(crate) fn into_scim(self, subject: Subject) -> ScimError {
        let noun = match subject {
            Subject::Filter => "filter",
            Subject::Path => "path",
            Subject::AttributeList => "attribute list",
        };
        let detail = match self.at {
            Some(at) => format!("invalid {noun} at byte {at}: {}", self.reason),
            None => format!("invalid {noun}: {}", self.reason),
        };
        match subject {
            Subject::Filter => ScimError::invalid_filter(detail),
            Subject::Path | Subject::AttributeList => ScimError::invalid_path(detail),
        }
    }
}
