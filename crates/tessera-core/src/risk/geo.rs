//! The GeoIP port: where an IP address is, as far as a configured database knows. The
//! binary plugs in a MaxMind-format reader; without a database, [`GeoLookupOff`] says the
//! geographic signals are off instead of pretending every address is unknown.

use super::signals::{GeoAvailability, GeoPoint};
use std::net::IpAddr;

/// Looks IP addresses up in a GeoIP database. Synchronous and in memory: a lookup costs
/// about a microsecond, less than handing it to another thread would.
pub trait GeoLookup: Send + Sync {
    /// What the database knows of `ip`; `None` when it has no record (private ranges, new
    /// allocations) or no database is configured.
    fn locate(&self, ip: IpAddr) -> Option<GeoPoint>;

    /// Whether a database is configured at all.
    fn is_enabled(&self) -> bool;

    /// The signal the risk engine takes: off, unknown, or located.
    fn availability(&self, ip: IpAddr) -> GeoAvailability {
        if !self.is_enabled() {
            return GeoAvailability::Off;
        }
        match self.locate(ip) {
            Some(point) if !point.is_empty() => GeoAvailability::Located(point),
            _ => GeoAvailability::Unknown,
        }
    }
}

/// No GeoIP database is configured.
#[derive(Debug, Clone, Copy, Default)]
pub struct GeoLookupOff;

impl GeoLookup for GeoLookupOff {
    fn locate(&self, _ip: IpAddr) -> Option<GeoPoint> {
        None
    }

    fn is_enabled(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::CountryCode;

    struct OneCountry;
    impl GeoLookup for OneCountry {
        fn locate(&self, ip: IpAddr) -> Option<GeoPoint> {
            (!ip.is_loopback()).then(|| GeoPoint {
                country: CountryCode::parse("CH"),
                ..GeoPoint::default()
            })
        }
        fn is_enabled(&self) -> bool {
            true
        }
    }

    #[test]
    fn availability_tells_off_from_unknown() {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(GeoLookupOff.availability(ip), GeoAvailability::Off);
        assert!(
            matches!(OneCountry.availability(ip), GeoAvailability::Located(p) if p.country == CountryCode::parse("ch"))
        );
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(OneCountry.availability(loopback), GeoAvailability::Unknown);
    }
}
