//! What the risk engine is told about one sign-in attempt: where it comes from, what the
//! user's past successful sign-ins looked like, and what the counters and lists say. The
//! caller gathers these (cookie, GeoIP, store, lists); the engine only weighs them.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

/// An ISO 3166-1 alpha-2 country code, upper case (`CH`, `US`). GeoIP databases also use
/// the user-assigned `EU` and `AP` for networks they place only on a continent; those are
/// accepted, since they are still the database's answer.
///
/// Two bytes and `Copy`: looking a country up costs no allocation on the sign-in path.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Two ASCII letters in either case; anything else is `None`.
    pub fn parse(input: &str) -> Option<Self> {
        match input.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Some(Self([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII letters (checked in `parse`), so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for CountryCode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or_else(|| format!("'{value}' is not a two-letter country code"))
    }
}

impl From<CountryCode> for String {
    fn from(code: CountryCode) -> Self {
        code.as_str().to_owned()
    }
}

/// A point on Earth in degrees (WGS 84), as a GeoIP database places a network.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawCoordinates")]
pub struct Coordinates {
    latitude: f64,
    longitude: f64,
}

/// Coordinates as read, before [`Coordinates::new`] checks them.
#[derive(Deserialize)]
struct RawCoordinates {
    latitude: f64,
    longitude: f64,
}

impl TryFrom<RawCoordinates> for Coordinates {
    type Error = &'static str;
    fn try_from(raw: RawCoordinates) -> Result<Self, Self::Error> {
        Self::new(raw.latitude, raw.longitude)
            .ok_or("latitude must be within -90..90 and longitude within -180..180")
    }
}

impl Coordinates {
    /// Finite latitude in −90…90 and longitude in −180…180; anything else is `None`, so a
    /// corrupt record cannot turn into an impossible journey.
    pub fn new(latitude: f64, longitude: f64) -> Option<Self> {
        ((-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude)).then_some(
            Self {
                latitude,
                longitude,
            },
        )
    }

    pub fn latitude(&self) -> f64 {
        self.latitude
    }

    pub fn longitude(&self) -> f64 {
        self.longitude
    }

    /// Great-circle distance in kilometres (haversine on a sphere of the Earth's mean
    /// radius). Its error, under 0.5 %, is far below GeoIP's own.
    pub fn distance_km(&self, other: &Coordinates) -> f64 {
        const EARTH_RADIUS_KM: f64 = 6371.0088;
        let (lat1, lat2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let half_dlat = (lat2 - lat1) / 2.0;
        let half_dlon = (other.longitude - self.longitude).to_radians() / 2.0;
        let a = half_dlat.sin().powi(2) + lat1.cos() * lat2.cos() * half_dlon.sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }
}

/// What a GeoIP database says about an IP address; every part may be missing (a country
/// database has no coordinates, an ASN database no country).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub country: Option<CountryCode>,
    /// The autonomous system (network operator) announcing the address.
    pub asn: Option<u32>,
    pub coordinates: Option<Coordinates>,
}

impl GeoPoint {
    pub fn is_empty(&self) -> bool {
        self.country.is_none() && self.asn.is_none() && self.coordinates.is_none()
    }
}

/// Whether the sign-in could be placed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GeoAvailability {
    /// No GeoIP database is configured: the geographic signals are off (and the
    /// assessment says so).
    Off,
    /// The database does not know the address (a private or brand-new range).
    Unknown,
    Located(GeoPoint),
}

impl GeoAvailability {
    /// The point, when located and not empty.
    pub fn point(&self) -> Option<&GeoPoint> {
        match self {
            Self::Located(point) if !point.is_empty() => Some(point),
            _ => None,
        }
    }
}

/// The user's last successful sign-in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PreviousSignIn {
    pub at: OffsetDateTime,
    /// Where it came from, when GeoIP could place it.
    pub geo: Option<GeoPoint>,
}

/// What the caller loads from the user's past *successful* sign-ins (within the policy's
/// `history_days`), not counting this attempt. The default is an empty history: a first
/// sign-in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SignInHistory {
    /// Countries signed in from. Empty means "no baseline" (a first sign-in, or GeoIP was
    /// off until now), in which case no country is new.
    pub known_countries: Vec<CountryCode>,
    /// Autonomous systems signed in from; empty means no baseline, as for countries.
    pub known_asns: Vec<u32>,
    pub last: Option<PreviousSignIn>,
    /// Successful sign-ins per hour of the day, in UTC (index 0 is 00:00–00:59).
    pub hour_counts: [u32; 24],
}

impl SignInHistory {
    /// Successful sign-ins counted by hour.
    pub fn total_sign_ins(&self) -> u64 {
        self.hour_counts.iter().map(|&count| u64::from(count)).sum()
    }

    /// No trace of any earlier sign-in.
    pub fn is_empty(&self) -> bool {
        self.last.is_none()
            && self.known_countries.is_empty()
            && self.known_asns.is_empty()
            && self.total_sign_ins() == 0
    }
}

/// Everything the engine weighs for one sign-in attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskSignals {
    /// The browser presented a valid long-lived device cookie issued to this user.
    pub device_known: bool,
    pub geo: GeoAvailability,
    pub history: SignInHistory,
    /// Failed sign-ins on this account within the policy's `failure_window_minutes`.
    pub account_failures: u32,
    /// Failed sign-ins from this IP address (any account) within the same window.
    pub ip_failures: u32,
    /// The IP address is on the tenant's configured deny list.
    pub ip_deny_listed: bool,
    /// The IP address is on the configured Tor exit list.
    pub tor_exit: bool,
    /// The password given is on the breached or common password list (false for sign-ins
    /// without a password).
    pub password_breached: bool,
    /// When the attempt is made.
    pub at: OffsetDateTime,
}

impl RiskSignals {
    /// A clean attempt at `at`: known device, nothing listed, no failures, no history and
    /// GeoIP off. Callers and tests set the fields that differ.
    pub fn new(at: OffsetDateTime) -> Self {
        Self {
            device_known: true,
            geo: GeoAvailability::Off,
            history: SignInHistory::default(),
            account_failures: 0,
            ip_failures: 0,
            ip_deny_listed: false,
            tor_exit: false,
            password_breached: false,
            at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_two_letters_in_upper_case() {
        assert_eq!(
            CountryCode::parse("ch").map(|c| c.to_string()),
            Some("CH".into())
        );
        for bad in ["", "C", "CHE", "C1", "é", "  "] {
            assert_eq!(CountryCode::parse(bad), None, "{bad}");
        }
        let json = serde_json::to_string(&CountryCode::parse("de")).unwrap();
        assert_eq!(json, "\"DE\"");
        assert!(serde_json::from_str::<CountryCode>("\"DEU\"").is_err());
    }

    #[test]
    fn coordinates_are_checked_and_distances_are_haversine() {
        assert!(Coordinates::new(91.0, 0.0).is_none());
        assert!(Coordinates::new(0.0, f64::NAN).is_none());
        let zurich = Coordinates::new(47.3769, 8.5417).unwrap();
        let new_york = Coordinates::new(40.7128, -74.0060).unwrap();
        let sydney = Coordinates::new(-33.8688, 151.2093).unwrap();
        let km = zurich.distance_km(&new_york);
        assert!((6_300.0..6_340.0).contains(&km), "{km}");
        let km = zurich.distance_km(&sydney);
        assert!((16_500.0..16_600.0).contains(&km), "{km}");
        assert!(zurich.distance_km(&zurich).abs() < 1e-9);
        // Antipodes: the clamp keeps asin's argument in range.
        let a = Coordinates::new(0.0, 0.0).unwrap();
        let b = Coordinates::new(0.0, 180.0).unwrap();
        assert!((a.distance_km(&b) - 20_015.1).abs() < 1.0);
    }

    #[test]
    fn an_empty_history_is_a_first_sign_in() {
        let mut history = SignInHistory::default();
        assert!(history.is_empty());
        history.hour_counts[3] = 2;
        assert_eq!(history.total_sign_ins(), 2);
        assert!(!history.is_empty());
    }
}
