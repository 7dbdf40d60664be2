//! The blocklist of common passwords, shipped in the binary (`common-passwords.txt`: the
//! zxcvbn password frequency list, MIT; the file's header names the source and carries the
//! licence). It is sorted once, on first use, and searched by binary search.

use std::sync::OnceLock;
use zeroize::Zeroizing;

const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

/// The list, lower case, sorted and without duplicates.
fn sorted() -> &'static [&'static str] {
    static SORTED: OnceLock<Vec<&'static str>> = OnceLock::new();
    SORTED.get_or_init(|| {
        let mut entries: Vec<&'static str> = COMMON_PASSWORDS
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect();
        entries.sort_unstable();
        entries.dedup();
        entries
    })
}

/// Whether `password` is on the list, ignoring case.
pub fn is_common(password: &str) -> bool {
    let lower = Zeroizing::new(password.to_lowercase());
    sorted().binary_search(&lower.as_str()).is_ok()
}

/// How many passwords the list holds.
pub fn len() -> usize {
    sorted().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_the_list_in_lower_case() {
        assert!(len() > 17_000, "{}", len());
        assert!(sorted().iter().all(|entry| *entry == entry.to_lowercase()));
        assert!(sorted().iter().all(|entry| entry.chars().count() >= 8));
    }

    #[test]
    fn finds_common_passwords_ignoring_case() {
        for password in ["password", "PassWord", "ILOVEYOU", "qwertyuiop", "1qaz2wsx"] {
            assert!(is_common(password), "{password}");
        }
        for password in [
            "",
            "correct horse battery staple",
            "пароль-日本語-パスワード",
        ] {
            assert!(!is_common(password), "{password}");
        }
    }
}
