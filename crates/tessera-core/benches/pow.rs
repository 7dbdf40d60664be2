//! The proof of work's cost to the server, against the target of issue #5: verifying a
//! solution must cost less than 50 µs. Also measured: issuing a challenge, refusing a
//! forged one, and what solving costs native code at the default difficulty (the browser's
//! cost is in `pow::DEFAULT_DIFFICULTY`'s documentation).
//!
//! `cargo bench -p tessera-core --bench pow -- --warm-up-time 1 --measurement-time 3`

#![allow(clippy::expect_used)] // a benchmark may fail loudly

use criterion::{Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::hint::black_box;
use tessera_core::bot::pow::{self, PowIssuer};
use time::macros::datetime;

const KEY: &[u8] = b"tessera-bench-altcha-hmac-key-0123456789";

fn benches(c: &mut Criterion) {
    let now = datetime!(2026-06-01 12:00 UTC);
    let issuer = PowIssuer::new(KEY, pow::DEFAULT_DIFFICULTY, pow::DEFAULT_LIFETIME)
        .expect("valid settings");
    let mut rng = StdRng::seed_from_u64(1);
    let challenge = issuer.issue(now, &mut rng);
    let number = pow::solve(&challenge).expect("an issued challenge has a solution");
    let solution = pow::payload(&challenge, number, 350);
    let forged = pow::payload(&challenge, number + 1, 350);
    issuer
        .verify(&solution, now)
        .expect("the solution verifies");

    c.bench_function("pow_verify", |b| {
        b.iter(|| issuer.verify(black_box(&solution), black_box(now)))
    });
    c.bench_function("pow_verify_wrong_number", |b| {
        b.iter(|| issuer.verify(black_box(&forged), black_box(now)))
    });
    c.bench_function("pow_issue", |b| {
        b.iter(|| issuer.issue(black_box(now), &mut rng))
    });

    // Solving costs as many hashes as the number; a challenge whose number falls in the last
    // tenth of the default difficulty shows nearly the worst case (the average is half).
    let mut group = c.benchmark_group("pow_solve");
    group.sample_size(10);
    let worst = (0..)
        .map(|seed| issuer.issue(now, &mut StdRng::seed_from_u64(seed)))
        .find(|late| pow::solve(late).is_some_and(|n| n > pow::DEFAULT_DIFFICULTY * 9 / 10))
        .expect("some seed draws a number in the last tenth");
    group.bench_function("default_difficulty_late_number", |b| {
        b.iter(|| pow::solve(black_box(&worst)))
    });
    group.finish();
}

criterion_group!(pow_benches, benches);
criterion_main!(pow_benches);
