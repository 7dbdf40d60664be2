//! IP address lists: a tenant's deny list and the Tor exit list, parsed once from text and
//! searched on every sign-in.
//!
//! Accepted, one entry a line: an IPv4 or IPv6 address, or a CIDR range (`10.0.0.0/8`,
//! `2001:db8::/32`); `#` starts a comment; blank lines are skipped. Tor's two exit list
//! formats read as they are published: the bulk list (one address a line) and the
//! exit-addresses document, of which only `ExitAddress <ip> <date> <time>` lines count
//! (`ExitNode`, `Published` and `LastStatus` lines are skipped).
//!
//! Entries become sorted, merged ranges, so a lookup is one binary search however long the
//! list. IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, as dual-stack sockets report IPv4
//! peers) are looked up as the IPv4 address they carry.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Most entries one list may hold (Tor's exit list has a few thousand; the largest public
/// deny lists a few hundred thousand).
pub const MAX_ENTRIES: usize = 1_000_000;

/// Why a list could not be read. Line numbers count from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpListError {
    /// The line holds something other than an address or a range.
    #[error("line {line}: '{found}' is not an IP address or a CIDR range")]
    NotAnAddress { line: usize, found: String },
    /// The prefix length is not a number within the address's size.
    #[error("line {line}: '{found}' has a prefix length outside 0 to {max}")]
    BadPrefix { line: usize, found: String, max: u8 },
    /// The range's address has bits set beyond its prefix, which usually means a typo.
    #[error("line {line}: '{found}' has bits set after the prefix; did you mean {network}?")]
    HostBitsSet {
        line: usize,
        found: String,
        network: String,
    },
    #[error("more than {MAX_ENTRIES} entries")]
    TooLarge,
}

/// A parsed list of addresses and ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpList {
    /// Inclusive, sorted, non-overlapping, non-adjacent ranges.
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl IpList {
    /// Reads a list; the first bad line is named in the error.
    pub fn parse(text: &str) -> Result<Self, IpListError> {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let content = raw.split('#').next().unwrap_or("").trim();
            let mut words = content.split_whitespace();
            let entry = match (words.next(), words.next()) {
                (None, _) => continue,
                (Some("ExitNode" | "Published" | "LastStatus"), _) => continue,
                (Some("ExitAddress"), Some(address)) => address,
                (Some(entry), None) => entry,
                (Some(_), Some(_)) => {
                    return Err(IpListError::NotAnAddress {
                        line,
                        found: shorten(content),
                    });
                }
            };
            match parse_entry(entry, line)? {
                Range::V4(start, end) => v4.push((start, end)),
                Range::V6(start, end) => v6.push((start, end)),
            }
            if v4.len() + v6.len() > MAX_ENTRIES {
                return Err(IpListError::TooLarge);
            }
        }
        Ok(Self {
            v4: merge(v4),
            v6: merge(v6),
        })
    }

    /// Whether the address is on the list.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip.to_canonical() {
            IpAddr::V4(v4) => covers(&self.v4, u32::from(v4)),
            IpAddr::V6(v6) => covers(&self.v6, u128::from(v6)),
        }
    }

    /// The number of ranges after merging (adjacent and overlapping entries count once).
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

enum Range {
    V4(u32, u32),
    V6(u128, u128),
}

fn shorten(text: &str) -> String {
    text.chars().take(80).collect()
}

fn parse_entry(entry: &str, line: usize) -> Result<Range, IpListError> {
    let not_an_address = || IpListError::NotAnAddress {
        line,
        found: shorten(entry),
    };
    let (address, prefix) = match entry.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (entry, None),
    };
    let address: IpAddr = address.parse().map_err(|_| not_an_address())?;
    let max: u8 = if address.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(text) => text
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= max && text.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| IpListError::BadPrefix {
                line,
                found: shorten(entry),
                max,
            })?,
    };
    let host_bits_set = |network: String| IpListError::HostBitsSet {
        line,
        found: shorten(entry),
        network,
    };
    match address {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let host = u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
            if bits & host != 0 {
                return Err(host_bits_set(format!(
                    "{}/{prefix}",
                    Ipv4Addr::from(bits & !host)
                )));
            }
            Ok(Range::V4(bits, bits | host))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let host = u128::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
            if bits & host != 0 {
                return Err(host_bits_set(format!(
                    "{}/{prefix}",
                    Ipv6Addr::from(bits & !host)
                )));
            }
            // An IPv4-mapped entry guards the IPv4 address it carries, as lookups do.
            match v6.to_ipv4_mapped() {
                Some(mapped) if prefix >= 96 => {
                    let start = u32::from(mapped);
                    let end = start | u32::MAX.checked_shr(u32::from(prefix - 96)).unwrap_or(0);
                    Ok(Range::V4(start, end))
                }
                _ => Ok(Range::V6(bits, bits | host)),
            }
        }
    }
}

/// Sorts ranges and joins those that overlap or touch.
fn merge<T: Copy + Ord + Successor>(mut ranges: Vec<(T, T)>) -> Vec<(T, T)> {
    ranges.sort_unstable();
    let mut merged: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if last.1.successor().is_none_or(|next| start <= next) => {
                last.1 = last.1.max(end);
            }
            _ => merged.push((start, end)),
        }
    }
    merged.shrink_to_fit();
    merged
}

fn covers<T: Copy + Ord>(ranges: &[(T, T)], value: T) -> bool {
    // The first range starting after `value`; the one before it is the only candidate.
    let after = ranges.partition_point(|(start, _)| *start <= value);
    after
        .checked_sub(1)
        .and_then(|index| ranges.get(index))
        .is_some_and(|(_, end)| value <= *end)
}

trait Successor: Sized {
    fn successor(self) -> Option<Self>;
}
impl Successor for u32 {
    fn successor(self) -> Option<Self> {
        self.checked_add(1)
    }
}
impl Successor for u128 {
    fn successor(self) -> Option<Self> {
        self.checked_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn addresses_ranges_comments_and_blank_lines() {
        let list = IpList::parse(
            "# deny list\n\n198.51.100.7\n  10.0.0.0/8   # office\n2001:db8::/32\n::1\n\
             192.0.2.0/25\n192.0.2.128/25\n0.0.0.0/32\n",
        )
        .unwrap();
        // The two halves of 192.0.2.0/24 merge into one range.
        assert_eq!(list.len(), 6);
        for listed in [
            "198.51.100.7",
            "10.0.0.0",
            "10.255.255.255",
            "2001:db8::1",
            "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
            "::1",
            "192.0.2.0",
            "192.0.2.200",
            "0.0.0.0",
            "::ffff:10.1.2.3",
        ] {
            assert!(list.contains(ip(listed)), "{listed}");
        }
        for free in [
            "198.51.100.8",
            "11.0.0.0",
            "9.255.255.255",
            "2001:db9::",
            "::2",
            "192.0.3.0",
            "0.0.0.1",
        ] {
            assert!(!list.contains(ip(free)), "{free}");
        }
        assert!(IpList::parse("").unwrap().is_empty());
        assert!(!IpList::default().contains(ip("1.2.3.4")));
    }

    #[test]
    fn tor_exit_lists_in_both_formats() {
        let document = "ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\n\
            Published 2026-11-28 09:51:55\n\
            LastStatus 2026-11-28 10:00:00\n\
            ExitAddress 162.247.74.201 2026-11-28 10:05:12\n\
            ExitNode 0091174DE56EA5E9B2E1A4C9A3E2F3B1A0C4D5E6\n\
            ExitAddress 2a0b:f4c2::20 2026-11-28 10:07:40\n";
        let list = IpList::parse(document).unwrap();
        assert_eq!(list.len(), 2);
        assert!(list.contains(ip("162.247.74.201")));
        assert!(list.contains(ip("2a0b:f4c2::20")));
        let bulk = IpList::parse("162.247.74.201\n185.220.101.1\n").unwrap();
        assert!(bulk.contains(ip("185.220.101.1")));
        assert!(!bulk.contains(ip("185.220.101.2")));
    }

    #[test]
    fn whole_spaces_and_overlaps() {
        let list = IpList::parse("0.0.0.0/0\n10.0.0.0/8\n::/0\n").unwrap();
        assert_eq!(list.len(), 2);
        assert!(list.contains(ip("255.255.255.255")));
        assert!(list.contains(ip("ffff::1")));
        let mapped = IpList::parse("::ffff:192.0.2.0/120\n").unwrap();
        assert!(mapped.contains(ip("192.0.2.77")));
        assert!(!mapped.contains(ip("192.0.3.1")));
    }

    #[test]
    fn errors_name_the_line() {
        let errors: Vec<String> = [
            "1.2.3.4\nnot-an-ip\n",
            "1.2.3.4 5.6.7.8",
            "10.0.0.0/33",
            "10.0.0.0/+8",
            "2001:db8::/129",
            "10.0.0.1/8",
            "\n\n2001:db8::1/32",
            "ExitAddress",
            "ExitAddress nope 2026-11-28",
        ]
        .into_iter()
        .map(|text| IpList::parse(text).unwrap_err().to_string())
        .collect();
        insta::assert_snapshot!(errors.join("\n"), @r"
        line 2: 'not-an-ip' is not an IP address or a CIDR range
        line 1: '1.2.3.4 5.6.7.8' is not an IP address or a CIDR range
        line 1: '10.0.0.0/33' has a prefix length outside 0 to 32
        line 1: '10.0.0.0/+8' has a prefix length outside 0 to 32
        line 1: '2001:db8::/129' has a prefix length outside 0 to 128
        line 1: '10.0.0.1/8' has bits set after the prefix; did you mean 10.0.0.0/8?
        line 3: '2001:db8::1/32' has bits set after the prefix; did you mean 2001:db8::/32?
        line 1: 'ExitAddress' is not an IP address or a CIDR range
        line 1: 'nope' is not an IP address or a CIDR range
        ");
    }

    #[test]
    fn thousands_of_entries_are_searched_not_scanned() {
        let text: String = (0..20_000u32)
            .map(|i| format!("{}\n", Ipv4Addr::from(0x0a00_0000 + i * 4)))
            .collect();
        let list = IpList::parse(&text).unwrap();
        assert_eq!(list.len(), 20_000);
        assert!(list.contains(ip("10.0.0.4")));
        assert!(!list.contains(ip("10.0.0.5")));
        assert!(list.contains(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + 19_999 * 4))));
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(text in "\\PC{0,200}") {
            let _ = IpList::parse(&text);
        }

        #[test]
        fn a_listed_range_contains_exactly_its_addresses(
            network in proptest::prelude::any::<u32>(),
            prefix in 0u8..=32,
            probe in proptest::prelude::any::<u32>(),
        ) {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            let start = network & mask;
            let list = IpList::parse(&format!("{}/{prefix}", Ipv4Addr::from(start))).unwrap();
            let inside = probe & mask == start;
            proptest::prop_assert_eq!(list.contains(IpAddr::V4(Ipv4Addr::from(probe))), inside);
        }
    }
}
