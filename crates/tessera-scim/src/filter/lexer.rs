//! Splits a filter or PATCH path into tokens: brackets, JSON strings and words. A word is
//! any run of characters other than whitespace, brackets and `"`; the parser decides by
//! position whether it is an attribute path, an operator, a keyword or a value. This keeps
//! URNs with `.` and `:` (`…:2.0:User:employeeNumber`) in one piece.

use crate::syntax::{Reason, SyntaxError};

/// One token and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token<'a> {
    pub(crate) kind: TokenKind<'a>,
    pub(crate) at: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind<'a> {
    OpenParen,
    CloseParen,
    OpenBracket,
    CloseBracket,
    /// A JSON string, already unescaped.
    String(String),
    Word(&'a str),
}

/// Tokenises the whole input. The caller has already capped its length, so the token list
/// is bounded by it.
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token<'_>>, SyntaxError> {
    let bytes = input.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        let kind = match byte {
            b' ' | b'\t' | b'\r' | b'\n' => {
                at += 1;
                continue;
            }
            b'(' => TokenKind::OpenParen,
            b')' => TokenKind::CloseParen,
            b'[' => TokenKind::OpenBracket,
            b']' => TokenKind::CloseBracket,
            b'"' => {
                let end = string_end(bytes, at)?;
                let literal = input.get(at..end).unwrap_or_default();
                let text = serde_json::from_str::<String>(literal)
                    .map_err(|_| SyntaxError::at(at, Reason::InvalidString))?;
                tokens.push(Token {
                    kind: TokenKind::String(text),
                    at,
                });
                at = end;
                continue;
            }
            _ => {
                let end = word_end(bytes, at);
                let word = input.get(at..end).unwrap_or_default();
                tokens.push(Token {
                    kind: TokenKind::Word(word),
                    at,
                });
                at = end;
                continue;
            }
        };
        tokens.push(Token { kind, at });
        at += 1;
    }
    Ok(tokens)
}

/// The offset just past the closing quote of the string that opens at `start`. Quotes and
/// backslashes are ASCII, so a byte scan never splits a UTF-8 character.
fn string_end(bytes: &[u8], start: usize) -> Result<usize, SyntaxError> {
    let mut at = start + 1;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'\\' => at += 2,
            b'"' => return Ok(at + 1),
            _ => at += 1,
        }
    }
    Err(SyntaxError::at(start, Reason::UnterminatedString))
}

/// The offset where the word that starts at `start` ends (all delimiters are ASCII).
fn word_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start;
    while let Some(&byte) = bytes.get(at) {
        if matches!(
            byte,
            b' ' | b'\t' | b'\r' | b'\n' | b'(' | b')' | b'[' | b']' | b'"'
        ) {
            break;
        }
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<TokenKind<'_>> {
        tokenize(input)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn splits_words_strings_and_brackets() {
        assert_eq!(
            kinds(r#"emails[type eq "w\"o\u00e9"]and(not pr)"#),
            vec![
                TokenKind::Word("emails"),
                TokenKind::OpenBracket,
                TokenKind::Word("type"),
                TokenKind::Word("eq"),
                TokenKind::String("w\"oé".into()),
                TokenKind::CloseBracket,
                TokenKind::Word("and"),
                TokenKind::OpenParen,
                TokenKind::Word("not"),
                TokenKind::Word("pr"),
                TokenKind::CloseParen,
            ]
        );
    }

    #[test]
    fn refuses_unterminated_and_malformed_strings() {
        assert_eq!(
            tokenize(r#"a eq "abc"#).unwrap_err().reason,
            Reason::UnterminatedString
        );
        assert_eq!(
            tokenize(r#"a eq "abc\"#).unwrap_err().reason,
            Reason::UnterminatedString
        );
        assert_eq!(
            tokenize(r#"a eq "\x""#).unwrap_err().reason,
            Reason::InvalidString
        );
        assert_eq!(
            tokenize("a eq \"\u{1}\"").unwrap_err().reason,
            Reason::InvalidString
        );
        assert_eq!(
            tokenize(r#"a eq "\ud800""#).unwrap_err().reason,
            Reason::InvalidString
        );
    }
}
