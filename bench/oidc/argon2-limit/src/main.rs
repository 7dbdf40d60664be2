//! Argon2id verifications per second on one thread, with one memory buffer allocated once and
//! reused for every verification, as each of Tessera's password workers does
//! (crates/tessera-core/src/password/worker.rs): Argon2id v0x13, 32-byte output, 16-byte salt.
//!
//!   argon2-limit [MEMORY_KIB] [ITERATIONS] [PARALLELISM] [SECONDS]
//!
//! Defaults: 19456 2 1 5 (Tessera's defaults, OWASP's recommendation). Pin it to one core
//! with `taskset -c N`. Prints one line: `argon2id m=… t=… p=…: N verifications/s (… ms each)`.

use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::time::{Duration, Instant};

fn arg(index: usize, default: u32) -> u32 {
    std::env::args()
        .nth(index)
        .map(|value| {
            value
                .parse()
                .unwrap_or_else(|_| panic!("argument {index} must be a number"))
        })
        .unwrap_or(default)
}

fn main() {
    let (memory_kib, iterations, parallelism, seconds) =
        (arg(1, 19_456), arg(2, 2), arg(3, 1), arg(4, 5));
    let params =
        Params::new(memory_kib, iterations, parallelism, Some(32)).expect("argon2 parameters");
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut memory = vec![Block::new(); params.block_count()];
    let salt = *b"bench-salt-16byt";
    let mut stored = [0u8; 32];
    argon2
        .hash_password_into_with_memory(b"the stored password", &salt, &mut stored, &mut memory)
        .expect("hash");

    // One verification: recompute with the stored parameters and salt, compare.
    let mut verify = |password: &[u8]| {
        let mut output = [0u8; 32];
        argon2
            .hash_password_into_with_memory(password, &salt, &mut output, &mut memory)
            .expect("hash");
        output == stored
    };
    verify(b"warm-up"); // fault the buffer's pages in once

    let budget = Duration::from_secs(seconds.into());
    let start = Instant::now();
    let mut count: u64 = 0;
    let mut matches: u64 = 0;
    while start.elapsed() < budget {
        let password = if count.is_multiple_of(2) {
            &b"the stored password"[..]
        } else {
            &b"a wrong password"[..]
        };
        matches += u64::from(verify(password));
        count += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    assert_eq!(matches, count.div_ceil(2), "every right password matches");
    println!(
        "argon2id m={memory_kib} t={iterations} p={parallelism}: {:.1} verifications/s ({:.2} ms each, {count} in {elapsed:.1} s)",
        count as f64 / elapsed,
        elapsed * 1000.0 / count as f64,
    );
}
