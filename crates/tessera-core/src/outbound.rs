//! Which addresses outbound HTTP (back-channel logout, identity verification providers now;
//! webhooks, connectors and upstream identity providers later) may reach. Private, loopback,
//! link-local, metadata and other special-purpose ranges are refused unless configuration
//! allows them (A48): otherwise anyone who can register a URL could make Tessera probe the
//! inside network.
//!
//! [`OutboundClient`] is the port through which the services call other systems; the binary
//! implements it with the guarded HTTP client of decision 0007.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local() // 169.254/16, the cloud metadata range
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., high, low] = segments;
        let v4 = Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
        return is_public_v4(v4);
    }
    // 6to4 (2002::/16) carries one in its second and third segments.
    if segments[0] == 0x2002 {
        let v4 = Ipv4Addr::from((u32::from(segments[1]) << 16) | u32::from(segments[2]));
        return is_public_v4(v4);
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local
        || (segments[0] & 0xffc0) == 0xfe80 // link local
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x64 && segments[1] == 0xff9b && segments[2] == 1) // local NAT64
        || (segments[0] & 0xffc0) == 0xfec0 // site local (deprecated)
        || segments[..4] == [0x100, 0, 0, 0] // discard-only
        || segments[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
}

/// Most bytes of an answer an [`OutboundClient`] reads; a longer answer is
/// [`OutboundError::TooLarge`].
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// What a called system answered: the status and at most [`MAX_ANSWER_BYTES`] of body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundAnswer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why an outbound request got no answer. Messages name the destination's host, never the
/// URL (it may hold a key), the credentials or the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// The server was wired without an outbound client.
    #[error("outbound HTTP is not configured")]
    NotConfigured,
    /// The destination is not a public address and configuration does not allow others.
    #[error("{0} is not a public address")]
    Refused(String),
    /// No answer: the connection failed, timed out, or the destination redirected.
    #[error("{0}")]
    Failed(String),
    /// The answer was longer than [`MAX_ANSWER_BYTES`].
    #[error("the answer from {0} is too large")]
    TooLarge(String),
}

/// Sends requests to other systems on the domain's behalf, under the installation's address
/// policy: no redirects followed, no proxies, no retries, one timeout for the exchange.
#[async_trait::async_trait]
pub trait OutboundClient: Send + Sync + std::fmt::Debug {
    /// POSTs `body` as `application/json` to `url` with `Authorization: Bearer <bearer>`
    /// (sent as a sensitive header) and returns the answer, whatever its status.
    async fn post_json(
        &self,
        url: &url::Url,
        bearer: &secrecy::SecretString,
        body: &serde_json::Value,
    ) -> Result<OutboundAnswer, OutboundError>;
}

/// The client of a server wired without outbound HTTP: every request fails as
/// [`OutboundError::NotConfigured`].
#[derive(Debug, Default, Clone, Copy)]
pub struct NoOutboundClient;

#[async_trait::async_trait]
impl OutboundClient for NoOutboundClient {
    async fn post_json(
        &self,
        _url: &url::Url,
        _bearer: &secrecy::SecretString,
        _body: &serde_json::Value,
    ) -> Result<OutboundAnswer, OutboundError> {
        Err(OutboundError::NotConfigured)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a48_private_loopback_link_local_and_metadata_addresses_are_not_public() {
        for text in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
            "::127.0.0.1",
            "2002:a9fe:a9fe::1",
            "2002:7f00:1::",
            "64:ff9b:1::1",
            "fec0::1",
            "100::1",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            assert!(!is_public(ip), "{text}");
        }
    }

    #[test]
    fn ordinary_addresses_are_public() {
        for text in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:93.184.216.34",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            assert!(is_public(ip), "{text}");
        }
    }
}
