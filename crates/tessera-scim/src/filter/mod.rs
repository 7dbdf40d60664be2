//! SCIM filters (RFC 7644 §3.4.2.2): a typed AST, a bounded recursive-descent parser, a
//! canonical printer (`parse(print(f)) == f`) and an in-memory evaluator.
//!
//! The AST is what the store compiles to parameterised SQL: values stay typed
//! ([`CompValue`]) and never become SQL text.

mod display;
pub mod eval;
pub(crate) mod lexer;
pub(crate) mod parser;

use crate::attr_path::AttrPath;
use crate::error::ScimError;
use crate::limits::Limits;
use crate::syntax::Subject;

/// A filter expression.
///
/// `And` and `Or` chains parse left-associatively: `a and b and c` is
/// `And(And(a, b), c)`. Inside [`Filter::ValuePath`] attribute paths are bare sub-attribute
/// names (`type`, not `emails.type`) and value paths do not nest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Both sides match.
    And(Box<Filter>, Box<Filter>),
    /// Either side matches.
    Or(Box<Filter>, Box<Filter>),
    /// The inner filter does not match.
    Not(Box<Filter>),
    /// `attr pr`: the attribute has a non-empty value.
    Present(AttrPath),
    /// `attr op value`.
    Compare {
        attr: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    /// `attr[filter]`: some value of the multi-valued complex attribute matches `filter`.
    ValuePath { attr: AttrPath, filter: Box<Filter> },
}

/// The comparison operators of RFC 7644 table 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    /// Every operator, in RFC order.
    pub const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];

    /// The operator's canonical (lower-case) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Co => "co",
            Self::Sw => "sw",
            Self::Ew => "ew",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }

    /// The operator spelled `word`, ignoring case.
    pub fn from_word(word: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }

    /// `co`, `sw`, `ew`: substring operators, which take a string.
    pub fn is_substring(self) -> bool {
        matches!(self, Self::Co | Self::Sw | Self::Ew)
    }

    /// `gt`, `ge`, `lt`, `le`: ordering operators, which take a string or a number.
    pub fn is_ordering(self) -> bool {
        matches!(self, Self::Gt | Self::Ge | Self::Lt | Self::Le)
    }
}

/// A comparison value (RFC 7644 `compValue`): JSON `false`, `null`, `true`, a number or a
/// string. Dates are strings, as in JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
}

impl CompValue {
    /// The value as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Null => serde_json::Value::Null,
            Self::Bool(b) => serde_json::Value::Bool(*b),
            Self::Number(n) => serde_json::Value::Number(n.clone()),
            Self::String(s) => serde_json::Value::String(s.clone()),
        }
    }
}

impl Filter {
    /// Parses a filter with the default [`Limits`]; errors are `invalidFilter`.
    pub fn parse(text: &str) -> Result<Self, ScimError> {
        Self::parse_with(text, &Limits::DEFAULT)
    }

    /// Parses a filter with the given limits; errors are `invalidFilter`.
    pub fn parse_with(text: &str, limits: &Limits) -> Result<Self, ScimError> {
        parser::Parser::new(text, limits)
            .and_then(|mut parser| parser.complete_filter())
            .map_err(|error| error.into_scim(Subject::Filter))
    }

    /// `a and b`.
    pub fn and(left: Filter, right: Filter) -> Self {
        Self::And(Box::new(left), Box::new(right))
    }

    /// `a or b`.
    pub fn or(left: Filter, right: Filter) -> Self {
        Self::Or(Box::new(left), Box::new(right))
    }

    /// `not (a)`.
    pub fn negate(inner: Filter) -> Self {
        Self::Not(Box::new(inner))
    }

    /// `attr op value`.
    pub fn compare(attr: AttrPath, op: CompareOp, value: CompValue) -> Self {
        Self::Compare { attr, op, value }
    }

    /// `attr[filter]`.
    pub fn value_path(attr: AttrPath, filter: Filter) -> Self {
        Self::ValuePath {
            attr,
            filter: Box::new(filter),
        }
    }

    /// How many attribute expressions (`Compare`, `Present`) the filter holds.
    pub fn term_count(&self) -> usize {
        match self {
            Self::And(a, b) | Self::Or(a, b) => a.term_count() + b.term_count(),
            Self::Not(inner) | Self::ValuePath { filter: inner, .. } => inner.term_count(),
            Self::Present(_) | Self::Compare { .. } => 1,
        }
    }

    /// Every attribute the filter compares or tests, fully qualified: inside
    /// `emails[type eq "work"]`, `type` is reported as `emails.type`. For checking the
    /// attributes against a schema (unknown or unfilterable → `invalidFilter`).
    pub fn attributes(&self) -> Vec<AttrPath> {
        let mut out = Vec::new();
        self.collect_attributes(None, &mut out);
        out
    }

    fn collect_attributes(&self, parent: Option<&AttrPath>, out: &mut Vec<AttrPath>) {
        match self {
            Self::And(a, b) | Self::Or(a, b) => {
                a.collect_attributes(parent, out);
                b.collect_attributes(parent, out);
            }
            Self::Not(inner) => inner.collect_attributes(parent, out),
            Self::ValuePath { attr, filter } => filter.collect_attributes(Some(attr), out),
            Self::Present(attr) | Self::Compare { attr, .. } => out.push(match parent {
                Some(parent) => qualify(parent, attr),
                None => attr.clone(),
            }),
        }
    }
}

/// `attr` (a bare name inside `parent[…]`) as a path from the resource's root.
pub(crate) fn qualify(parent: &AttrPath, attr: &AttrPath) -> AttrPath {
    AttrPath {
        urn: parent.urn.clone(),
        name: parent.name.clone(),
        sub: Some(attr.name.clone()),
    }
}

impl std::str::FromStr for Filter {
    type Err = ScimError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}
