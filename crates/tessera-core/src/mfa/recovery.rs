//! Recovery codes: the way back in when the second factor is lost. Ten codes of 80 random
//! bits each, shown once, kept only as SHA-256 digests, each good once; a new set replaces
//! the old one entirely (A43). 80 bits cannot be guessed online (the lockout counter stops
//! that long before) nor brute-forced from a leaked digest.

use crate::secret::SecretHash;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

/// Codes in a set.
pub const CODES_PER_SET: usize = 10;
/// Crockford's base32 alphabet: no I, L, O or U, so codes survive being read aloud or
/// copied from paper.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Characters per code: 16 × 5 bits = 80 bits.
const CODE_CHARS: usize = 16;

/// A fresh set: the codes to show once, and the digests to keep.
pub fn generate_set() -> (Vec<SecretString>, Vec<SecretHash>) {
    let mut rng = rand::rng();
    (0..CODES_PER_SET)
        .map(|_| {
            let mut bytes = [0u8; CODE_CHARS];
            rng.fill_bytes(&mut bytes);
            let raw: String = bytes
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
                .collect();
            let hash = hash(&raw);
            let shown = raw
                .as_bytes()
                .chunks(4)
                .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
                .collect::<Vec<_>>()
                .join("-");
            (SecretString::from(shown), hash)
        })
        .unzip()
}

/// The digest a typed code is looked up by: dashes and spaces dropped, case and the
/// letters people confuse with digits folded, as Crockford's base32 does.
pub fn hash_typed(typed: &SecretString) -> Option<SecretHash> {
    let normalized: String = typed
        .expose_secret()
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| match c.to_ascii_lowercase() {
            'i' | 'l' => '1',
            'o' => '0',
            other => other,
        })
        .collect();
    let valid = normalized.len() == CODE_CHARS && normalized.bytes().all(|b| ALPHABET.contains(&b));
    valid.then(|| hash(&normalized))
}

fn hash(normalized: &str) -> SecretHash {
    SecretHash::of_str(&format!("recovery:{normalized}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_set_has_ten_distinct_codes_whose_digests_match_what_is_typed() {
        let (codes, hashes) = generate_set();
        assert_eq!(codes.len(), CODES_PER_SET);
        let distinct: HashSet<_> = hashes.iter().map(|h| *h.as_bytes()).collect();
        assert_eq!(distinct.len(), CODES_PER_SET);
        for (code, hash) in codes.iter().zip(&hashes) {
            assert_eq!(code.expose_secret().len(), 19, "xxxx-xxxx-xxxx-xxxx");
            assert_eq!(hash_typed(code).as_ref(), Some(hash));
            let sloppy = SecretString::from(code.expose_secret().to_uppercase().replace('-', " "));
            assert_eq!(hash_typed(&sloppy).as_ref(), Some(hash));
        }
    }

    #[test]
    fn confusable_letters_fold_and_garbage_is_refused() {
        let typed = |text: &str| hash_typed(&SecretString::from(text.to_owned()));
        assert_eq!(typed("oooo-iiii-llll-0000"), typed("0000-1111-1111-0000"));
        assert_eq!(typed("short"), None);
        assert_eq!(typed("uuuu-uuuu-uuuu-uuuu"), None);
        assert_eq!(typed(""), None);
    }
}
