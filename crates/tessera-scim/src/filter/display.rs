//! The canonical text of a filter: lower-case operators and keywords, JSON-escaped strings,
//! single spaces, and parentheses only where precedence or left-associativity needs them,
//! so that parsing the printed text gives back the same AST.

use super::{CompValue, Filter};
use std::fmt::{self, Display, Formatter};

impl Display for Filter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::And(left, right) => {
                write_operand(f, left, matches!(**left, Filter::Or(..)))?;
                f.write_str(" and ")?;
                write_operand(
                    f,
                    right,
                    matches!(**right, Filter::Or(..) | Filter::And(..)),
                )
            }
            Self::Or(left, right) => {
                write_operand(f, left, false)?;
                f.write_str(" or ")?;
                write_operand(f, right, matches!(**right, Filter::Or(..)))
            }
            Self::Not(inner) => write!(f, "not ({inner})"),
            Self::Present(attr) => write!(f, "{attr} pr"),
            Self::Compare { attr, op, value } => write!(f, "{attr} {} {value}", op.as_str()),
            Self::ValuePath { attr, filter } => write!(f, "{attr}[{filter}]"),
        }
    }
}

fn write_operand(f: &mut Formatter<'_>, filter: &Filter, parenthesise: bool) -> fmt::Result {
    if parenthesise {
        write!(f, "({filter})")
    } else {
        write!(f, "{filter}")
    }
}

impl Display for CompValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Number(n) => write!(f, "{n}"),
            // serde_json escapes quotes, backslashes and control characters; writing a
            // String to JSON cannot fail.
            Self::String(s) => f.write_str(&serde_json::to_string(s).map_err(|_| fmt::Error)?),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::filter::Filter;

    fn canonical(text: &str) -> String {
        Filter::parse(text).unwrap().to_string()
    }

    #[test]
    fn prints_only_the_parentheses_precedence_needs() {
        assert_eq!(canonical("a pr OR b pr AND c pr"), "a pr or b pr and c pr");
        assert_eq!(
            canonical("(a pr or b pr) and c pr"),
            "(a pr or b pr) and c pr"
        );
        assert_eq!(
            canonical("a pr and (b pr and c pr)"),
            "a pr and (b pr and c pr)"
        );
        assert_eq!(
            canonical("(a pr and b pr) and c pr"),
            "a pr and b pr and c pr"
        );
        assert_eq!(
            canonical("a pr or (b pr or c pr)"),
            "a pr or (b pr or c pr)"
        );
        assert_eq!(canonical("NOT(a pr)"), "not (a pr)");
    }

    #[test]
    fn escapes_strings() {
        assert_eq!(canonical(r#"a EQ "q\"\\\u0041\n""#), r#"a eq "q\"\\A\n""#);
    }
}
