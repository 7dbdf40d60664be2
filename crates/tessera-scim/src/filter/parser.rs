//! Recursive descent over the token list. Precedence is `not` > `and` > `or`; `and`/`or`
//! chains are loops (left-associative), and the parser recurses only into `(…)`,
//! `not (…)` and `[…]`, each of which counts against `max_depth` before recursing, so no
//! input can exhaust the stack.

use super::lexer::{Token, TokenKind, tokenize};
use super::{CompValue, CompareOp, Filter};
use crate::attr_path::{AttrPath, is_attr_name, parse_attr_word};
use crate::limits::Limits;
use crate::syntax::{Reason, SyntaxError};

/// Where an expression sits: at the top, or inside a value filter `attr[…]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Top,
    ValueFilter,
}

const EXPECT_TERM: &str = "an attribute path, '(' or 'not ('";
const EXPECT_OPERATOR: &str = "an operator (eq, ne, co, sw, ew, gt, ge, lt, le) or pr";
const EXPECT_VALUE: &str = "a value (a string, a number, true, false or null)";
const EXPECT_LOGICAL: &str = "'and', 'or' or the end";

/// A parser over one input; shared by filters and PATCH paths.
#[derive(Debug)]
pub(crate) struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    position: usize,
    end: usize,
    limits: Limits,
    terms: usize,
}

impl<'a> Parser<'a> {
    /// Checks the length, then tokenises.
    pub(crate) fn new(input: &'a str, limits: &Limits) -> Result<Self, SyntaxError> {
        if input.len() > limits.max_length {
            return Err(SyntaxError::whole(Reason::TooLong(limits.max_length)));
        }
        if input.trim().is_empty() {
            return Err(SyntaxError::whole(Reason::Empty));
        }
        Ok(Self {
            tokens: tokenize(input)?,
            position: 0,
            end: input.len(),
            limits: *limits,
            terms: 0,
        })
    }

    /// A whole filter, up to the end of the input.
    pub(crate) fn complete_filter(&mut self) -> Result<Filter, SyntaxError> {
        let filter = self.or_expression(0, Scope::Top)?;
        if let Some(Token {
            kind: TokenKind::Word(word),
            at,
        }) = self.peek()
            && word.starts_with('.')
        {
            return Err(SyntaxError::at(*at, Reason::SubAttributeAfterFilter));
        }
        self.finish(EXPECT_LOGICAL)?;
        Ok(filter)
    }

    /// Fails unless every token has been consumed.
    pub(crate) fn finish(&self, expected: &'static str) -> Result<(), SyntaxError> {
        match self.peek() {
            None => Ok(()),
            Some(Token {
                kind: TokenKind::CloseParen | TokenKind::CloseBracket,
                at,
            }) => Err(SyntaxError::at(*at, Reason::UnbalancedClose)),
            Some(token) => Err(SyntaxError::at(token.at, Reason::Expected(expected))),
        }
    }

    pub(crate) fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.position)
    }

    fn peek_second(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.position + 1)
    }

    pub(crate) fn advance(&mut self) -> Option<Token<'a>> {
        let token = self.tokens.get(self.position).cloned();
        if token.is_some() {
            self.position += 1;
        }
        token
    }

    /// The error for a missing token: at the next token, or at the end of the input.
    pub(crate) fn expected(&self, what: &'static str) -> SyntaxError {
        let at = self.peek().map_or(self.end, |token| token.at);
        SyntaxError::at(at, Reason::Expected(what))
    }

    /// The depth one level below `depth`, if the limit allows it.
    fn deeper(&self, depth: usize, at: usize) -> Result<usize, SyntaxError> {
        if depth >= self.limits.max_depth {
            return Err(SyntaxError::at(at, Reason::TooDeep(self.limits.max_depth)));
        }
        Ok(depth + 1)
    }

    fn expect(&mut self, kind: &TokenKind<'_>, what: &'static str) -> Result<(), SyntaxError> {
        match self.peek() {
            Some(token) if &token.kind == kind => {
                self.position += 1;
                Ok(())
            }
            _ => Err(self.expected(what)),
        }
    }

    fn next_is_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: TokenKind::Word(w), .. }) if w.eq_ignore_ascii_case(keyword))
    }

    fn or_expression(&mut self, depth: usize, scope: Scope) -> Result<Filter, SyntaxError> {
        let mut left = self.and_expression(depth, scope)?;
        while self.next_is_keyword("or") {
            self.position += 1;
            let right = self.and_expression(depth, scope)?;
            left = Filter::or(left, right);
        }
        Ok(left)
    }

    fn and_expression(&mut self, depth: usize, scope: Scope) -> Result<Filter, SyntaxError> {
        let mut left = self.term(depth, scope)?;
        while self.next_is_keyword("and") {
            self.position += 1;
            let right = self.term(depth, scope)?;
            left = Filter::and(left, right);
        }
        Ok(left)
    }

    /// `( filter )`, `not ( filter )`, `attrPath [ valFilter ]` or an attribute expression.
    fn term(&mut self, depth: usize, scope: Scope) -> Result<Filter, SyntaxError> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.expected(EXPECT_TERM));
        };
        match token.kind {
            TokenKind::OpenParen => {
                let inner_depth = self.deeper(depth, token.at)?;
                self.position += 1;
                let inner = self.or_expression(inner_depth, scope)?;
                self.expect(&TokenKind::CloseParen, "')'")?;
                Ok(inner)
            }
            TokenKind::Word(word)
                if word.eq_ignore_ascii_case("not")
                    && matches!(
                        self.peek_second(),
                        Some(Token {
                            kind: TokenKind::OpenParen,
                            ..
                        })
                    ) =>
            {
                let inner_depth = self.deeper(depth, token.at)?;
                self.position += 2;
                let inner = self.or_expression(inner_depth, scope)?;
                self.expect(&TokenKind::CloseParen, "')'")?;
                Ok(Filter::negate(inner))
            }
            TokenKind::Word(word) => {
                self.position += 1;
                let attr =
                    parse_attr_word(word).map_err(|reason| SyntaxError::at(token.at, reason))?;
                if scope == Scope::ValueFilter && !attr.is_simple() {
                    return Err(SyntaxError::at(token.at, Reason::QualifiedInValueFilter));
                }
                if let Some(open) = self.peek().filter(|t| t.kind == TokenKind::OpenBracket) {
                    let open_at = open.at;
                    if scope == Scope::ValueFilter {
                        return Err(SyntaxError::at(open_at, Reason::NestedValuePath));
                    }
                    let filter = self.value_filter(&attr, depth, open_at)?;
                    return Ok(Filter::value_path(attr, filter));
                }
                self.attribute_expression(attr, token.at)
            }
            TokenKind::CloseParen
            | TokenKind::CloseBracket
            | TokenKind::OpenBracket
            | TokenKind::String(_) => Err(SyntaxError::at(token.at, Reason::Expected(EXPECT_TERM))),
        }
    }

    /// `[ valFilter ]` after `attr`, with the `[` next. Shared with PATCH paths.
    pub(crate) fn value_filter(
        &mut self,
        attr: &AttrPath,
        depth: usize,
        open_at: usize,
    ) -> Result<Filter, SyntaxError> {
        if attr.sub.is_some() {
            return Err(SyntaxError::at(open_at, Reason::SubAttributeBeforeFilter));
        }
        let inner_depth = self.deeper(depth, open_at)?;
        self.position += 1;
        let filter = self.or_expression(inner_depth, Scope::ValueFilter)?;
        self.expect(&TokenKind::CloseBracket, "']'")?;
        Ok(filter)
    }

    fn count_term(&mut self, at: usize) -> Result<(), SyntaxError> {
        self.terms += 1;
        if self.terms > self.limits.max_terms {
            return Err(SyntaxError::at(
                at,
                Reason::TooManyTerms(self.limits.max_terms),
            ));
        }
        Ok(())
    }

    /// `attr pr` or `attr op value`, with `attr` consumed.
    fn attribute_expression(
        &mut self,
        attr: AttrPath,
        attr_at: usize,
    ) -> Result<Filter, SyntaxError> {
        let op = match self.peek() {
            Some(Token {
                kind: TokenKind::Word(word),
                ..
            }) if word.eq_ignore_ascii_case("pr") => {
                self.position += 1;
                self.count_term(attr_at)?;
                return Ok(Filter::Present(attr));
            }
            Some(Token {
                kind: TokenKind::Word(word),
                ..
            }) => CompareOp::from_word(word).ok_or_else(|| self.expected(EXPECT_OPERATOR))?,
            _ => return Err(self.expected(EXPECT_OPERATOR)),
        };
        self.position += 1;
        self.count_term(attr_at)?;
        let value_at = self.peek().map_or(self.end, |token| token.at);
        let value = match self.advance().map(|token| token.kind) {
            Some(TokenKind::String(text)) => CompValue::String(text),
            Some(TokenKind::Word(word)) => literal(word)
                .ok_or_else(|| SyntaxError::at(value_at, Reason::Expected(EXPECT_VALUE)))?,
            _ => return Err(SyntaxError::at(value_at, Reason::Expected(EXPECT_VALUE))),
        };
        check_operand(op, &value).map_err(|reason| SyntaxError::at(value_at, reason))?;
        Ok(Filter::compare(attr, op, value))
    }

    /// A sub-attribute word after `]` in a PATCH path: `.name`.
    pub(crate) fn trailing_sub_attribute(&mut self) -> Result<Option<String>, SyntaxError> {
        match self.peek().cloned() {
            Some(Token {
                kind: TokenKind::Word(word),
                at,
            }) => {
                let name = word
                    .strip_prefix('.')
                    .ok_or_else(|| self.expected("'.' and a sub-attribute, or the end"))?;
                if !is_attr_name(name) {
                    return Err(SyntaxError::at(at, Reason::InvalidAttributeName));
                }
                self.position += 1;
                Ok(Some(name.to_owned()))
            }
            _ => Ok(None),
        }
    }
}

/// A bare-word value: `true`, `false`, `null` (any case) or a JSON number.
fn literal(word: &str) -> Option<CompValue> {
    if word.eq_ignore_ascii_case("true") {
        return Some(CompValue::Bool(true));
    }
    if word.eq_ignore_ascii_case("false") {
        return Some(CompValue::Bool(false));
    }
    if word.eq_ignore_ascii_case("null") {
        return Some(CompValue::Null);
    }
    let starts_like_number = word.starts_with(|c: char| c == '-' || c.is_ascii_digit());
    if !starts_like_number {
        return None;
    }
    serde_json::from_str::<serde_json::Number>(word)
        .ok()
        .map(CompValue::Number)
}

/// Substring operators take strings; ordering operators take strings or numbers.
fn check_operand(op: CompareOp, value: &CompValue) -> Result<(), Reason> {
    let is_string = matches!(value, CompValue::String(_));
    let is_number = matches!(value, CompValue::Number(_));
    if op.is_substring() && !is_string {
        return Err(Reason::OperatorNeedsString(op.as_str()));
    }
    if op.is_ordering() && !(is_string || is_number) {
        return Err(Reason::OperatorNeedsOrdered(op.as_str()));
    }
    Ok(())
}
