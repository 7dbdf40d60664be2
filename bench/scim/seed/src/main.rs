//! The seeder of bench/scim/run.sh: creates USERS users in the database `tessera serve` will
//! then open, through Tessera's own services (`Core::create_users`, one transaction per batch
//! of 10,000, as an import would, the way `crates/tessera-store/examples/seed_and_lookup.rs`
//! does), and writes `id<TAB>userName<TAB>email` for each to OUT, so the load generator
//! can pick existing users.
//!
//!   scim-seed --database-url URL --users N --out FILE [--batch 10000]
//!
//! User i is `<first>.<last><i>` at one of a few domains, its userName the email's local
//! part: every user has a userName and an email, the names repeat (as real ones do) and the
//! number makes each unique, so a 6-character piece of a local part that holds some of its
//! digits matches a few users. Prints one `SEED key=value …` line on stdout.

use std::error::Error;
use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::time::Instant;
use tessera_core::Core;
use tessera_core::auth::Authorized;
use tessera_core::clock::SystemClock;
use tessera_core::email::Email;
use tessera_core::service::NewUser;
use tessera_core::user::{Profile, UserEmail, Username};
use tessera_store::StoreOptions;

const FIRST_NAMES: [&str; 32] = [
    "anna", "ben", "clara", "david", "elena", "felix", "greta", "hugo", "ines", "jonas", "karla",
    "leon", "maria", "noah", "olga", "paul", "quinn", "rosa", "samuel", "tara", "umar", "vera",
    "william", "xenia", "yusuf", "zoe", "amir", "bianca", "carlos", "dana", "emil", "fatima",
];
const LAST_NAMES: [&str; 40] = [
    "keller", "schmidt", "novak", "rossi", "garcia", "martin", "jensen", "kowalski", "silva",
    "dubois", "meyer", "fischer", "weber", "wagner", "becker", "hoffmann", "schulz", "koch",
    "richter", "klein", "wolf", "neumann", "braun", "zimmermann", "kruger", "hartmann", "lange",
    "werner", "krause", "lehmann", "walter", "peters", "moller", "schmitt", "lorenz", "baker",
    "taylor", "brown", "wilson", "evans",
];
const DOMAINS: [&str; 5] = [
    "example.com",
    "example.org",
    "mail.example",
    "corp.example",
    "shop.example",
];

fn names(i: usize) -> (&'static str, &'static str) {
    (
        FIRST_NAMES[i % FIRST_NAMES.len()],
        LAST_NAMES[(i / FIRST_NAMES.len()) % LAST_NAMES.len()],
    )
}

fn local_part(i: usize) -> String {
    let (first, last) = names(i);
    format!("{first}.{last}{i}")
}

fn new_user(i: usize) -> Result<NewUser, Box<dyn Error>> {
    let (first, last) = names(i);
    let local = local_part(i);
    let email = Email::parse(&format!("{local}@{}", DOMAINS[i % DOMAINS.len()]))?;
    Ok(NewUser {
        profile: Profile {
            username: Some(Username::parse(&local)?),
            given_name: Some(capitalised(first)),
            family_name: Some(capitalised(last)),
            name: Some(format!("{} {}", capitalised(first), capitalised(last))),
            emails: vec![UserEmail {
                value: email,
                primary: true,
                verified: false,
                purposes: Default::default(),
                kind: Some("work".to_owned()),
            }],
            ..Profile::default()
        },
        password_hash: None,
        password: None,
        disabled: false,
    })
}

fn capitalised(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

struct Options {
    database_url: String,
    users: usize,
    out: String,
    batch: usize,
}

fn options() -> Result<Options, Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| -> Option<String> {
        args.iter()
            .position(|a| a == name)
            .and_then(|at| args.get(at + 1).cloned())
    };
    let required = |name: &str| value(name).ok_or_else(|| format!("{name} is required"));
    Ok(Options {
        database_url: required("--database-url")?,
        users: required("--users")?.parse()?,
        out: required("--out")?,
        batch: value("--batch").map_or(Ok(10_000), |b| b.parse())?.max(1),
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let options = options()?;
    let store = tessera_store::connect(&options.database_url, &StoreOptions::default()).await?;
    let core = Core::start(store.clone(), Arc::new(SystemClock), None).await?;
    let auth = Authorized::for_system(core.default_tenant());
    let mut out = BufWriter::new(std::fs::File::create(&options.out)?);

    let started = Instant::now();
    for first in (0..options.users).step_by(options.batch) {
        let last = (first + options.batch).min(options.users);
        let batch = (first..last).map(new_user).collect::<Result<Vec<_>, _>>()?;
        let created = core.create_users(&auth, batch, "bench").await?;
        for user in created {
            let username = user.username().map_or("", |u| u.as_str());
            let email = user.primary_email().map_or("", |e| e.as_str());
            writeln!(out, "{}\t{username}\t{email}", user.id)?;
        }
        if last % 100_000 < options.batch && last < options.users {
            eprintln!(
                "  {last} users, {:.0}/s",
                last as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    out.flush()?;
    // On SQLite this checkpoints the write-ahead log, so the server starts from a tidy file.
    let bytes = store.storage_bytes().await?;
    println!(
        "SEED users={} seconds={seconds:.1} rate={:.0} database_mib={:.0}",
        options.users,
        options.users as f64 / seconds,
        bytes as f64 / (1024.0 * 1024.0)
    );
    drop(core);
    drop(store);
    Ok(())
}
