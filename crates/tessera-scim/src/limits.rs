//! The limits every parser of untrusted SCIM input enforces (SECURITY.md A33–A34): they are
//! checked while parsing, so an oversized or deeply nested input is refused before it costs
//! memory or stack.

/// Size limits for filters, PATCH paths, attribute lists and PATCH requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest filter or path, in bytes (checked before anything else).
    pub max_length: usize,
    /// Deepest nesting of `(…)`, `not (…)` and `[…]`. Parsing recurses only at these, so this
    /// bounds the parser's stack; the AST's depth is at most `max_terms + 2 * max_depth`.
    pub max_depth: usize,
    /// Most attribute expressions (`attr op value`, `attr pr`) in one filter, counting those
    /// inside `[…]`; also the most entries of an `attributes` list.
    pub max_terms: usize,
    /// Most operations in one PATCH request.
    pub max_operations: usize,
}

impl Limits {
    /// Tessera's defaults: far above what a real client sends, far below what hurts.
    pub const DEFAULT: Limits = Limits {
        max_length: 4096,
        max_depth: 16,
        max_terms: 64,
        max_operations: 100,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
