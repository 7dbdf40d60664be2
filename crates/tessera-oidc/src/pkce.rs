//! Proof Key for Code Exchange (RFC 7636), S256 only: `plain` offers no protection against
//! an attacker who sees the authorization request, so it is refused (A15).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// 43–128 characters of the unreserved set (RFC 7636 §4.1); a challenge of S256 is exactly 43.
fn is_pkce_text(text: &str, lengths: std::ops::RangeInclusive<usize>) -> bool {
    lengths.contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether `challenge` is a well-formed S256 challenge.
pub fn is_valid_challenge(challenge: &str) -> bool {
    is_pkce_text(challenge, 43..=43)
}

/// Whether `verifier` hashes to `challenge`, compared in constant time.
pub fn verify(challenge: &str, verifier: &str) -> bool {
    if !is_pkce_text(verifier, 43..=128) {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(is_valid_challenge(challenge));
        assert!(verify(challenge, verifier));
    }

    #[test]
    fn a15_wrong_short_or_plain_verifiers_fail() {
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(!verify(
            challenge,
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl"
        ));
        assert!(!verify(challenge, "short"));
        // `plain`: the verifier equal to the challenge.
        assert!(!verify(challenge, challenge));
        assert!(!is_valid_challenge("not a challenge"));
    }
}
