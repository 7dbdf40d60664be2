//! The load generator of bench/scim/run.sh: closed-loop SCIM load, each worker on its own
//! kept-alive HTTP/1.1 connection, one thread (pin it with taskset).
//!
//!   scim-loadgen create   --url U --token T --tag X  [--concurrency N] [--warmup S] [--duration S]
//!   scim-loadgen bulk     --url U --token T --tag X  [--operations 1000] [--concurrency N] …
//!   scim-loadgen eq       --url U --token T --users FILE [--concurrency N] …
//!   scim-loadgen contains --url U --token T --users FILE [--count 100] [--concurrency N] …
//!   scim-loadgen patch    --url U --token T --users FILE [--concurrency N] …
//!
//! - `create`: `POST /Users` of a light account (userName, name, one email; no password),
//!   a new userName and email each time (`load-<tag>-<worker>-<n>`);
//! - `bulk`: `POST /Bulk` of `--operations` such creations;
//! - `eq`: `GET /Users?filter=userName eq "<a seeded user>"`; an answer whose totalResults
//!   is not 1 counts as an error;
//! - `contains`: `GET /Users?filter=emails co "<piece>"&count=100`, the piece 6 characters of
//!   a seeded user's local part holding at least four of its digits (so it matches that user
//!   and usually a few more: at 1,000,000 seeded users, 10 in the median, 41 at the 90th
//!   percentile); an answer whose totalResults is 0 counts as an error;
//! - `patch`: `PATCH /Users/<a seeded user's id>` replacing displayName.
//!
//! `--users` has `id<TAB>userName<TAB>email` lines (written by bench/scim/seed). Requests that
//! end inside the measured window (after `--warmup` seconds, for `--duration` seconds) count.
//! Each mode prints one line on stdout:
//!
//!   RESULT rate=<requests/s> requests=<n> errors=<n> p50_ms=<ms> p99_ms=<ms> units=<n>
//!          units_rate=<units/s> mean_units=<units per request> median_units=<…>
//!
//! where a unit is a user created (`create`, `bulk`), the totalResults of an answer (`eq`,
//! `contains`) or a user patched (`patch`). Error details go to stderr.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

// ---------------------------------------------------------------------------------------------
// Command line

struct Options(HashMap<String, String>);

impl Options {
    fn parse(args: &[String]) -> Self {
        let mut map = HashMap::new();
        for pair in args.chunks(2) {
            let name = pair[0]
                .strip_prefix("--")
                .unwrap_or_else(|| fail(&format!("unexpected {}", pair[0])));
            let value = pair
                .get(1)
                .unwrap_or_else(|| fail(&format!("--{name} needs a value")));
            map.insert(name.to_owned(), value.clone());
        }
        Self(map)
    }
    fn text(&self, name: &str) -> String {
        self.0
            .get(name)
            .cloned()
            .unwrap_or_else(|| fail(&format!("--{name} is required")))
    }
    fn number(&self, name: &str, default: f64) -> f64 {
        self.0.get(name).map_or(default, |v| {
            v.parse()
                .unwrap_or_else(|_| fail(&format!("--{name}: not a number")))
        })
    }
}

fn fail(message: &str) -> ! {
    eprintln!("scim-loadgen: {message}");
    std::process::exit(2)
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 over one kept-alive connection

struct Connection {
    authority: String,
    bearer: String,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Connection {
    async fn sender(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, String> {
        let usable = match self.sender.as_mut() {
            Some(sender) => sender.ready().await.is_ok(),
            None => false,
        };
        if !usable {
            let stream = TcpStream::connect(&self.authority)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            tokio::spawn(connection);
            self.sender = Some(sender);
        }
        self.sender
            .as_mut()
            .ok_or_else(|| "no connection".to_owned())
    }

    /// One SCIM request; the answer's status and body.
    async fn send(&mut self, call: Call) -> Result<(u16, Bytes), String> {
        let request = Request::builder()
            .method(call.method)
            .uri(call.path)
            .header("host", self.authority.clone())
            .header("authorization", self.bearer.clone())
            .header("accept", "application/scim+json")
            .header("content-type", "application/scim+json")
            .body(Full::new(Bytes::from(call.body.unwrap_or_default())))
            .map_err(|e| e.to_string())?;
        let response = self
            .sender()
            .await?
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok((status, body))
    }
}

fn percent(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The start of an unexpected answer, for the error summary.
fn unexpected(status: u16, body: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(body).chars().take(160).collect();
    format!("HTTP {status} {}", text.replace('\n', " "))
}

// ---------------------------------------------------------------------------------------------
// Scenarios: what each request is and what a good answer looks like

struct Call {
    method: Method,
    path: String,
    body: Option<String>,
}

trait Scenario: Send + Sync + 'static {
    /// The `sequence`-th request of `worker`.
    fn call(&self, worker: usize, sequence: u64, rng: &mut StdRng) -> Call;
    /// The units a good answer stands for, or what is wrong with it.
    fn check(&self, status: u16, body: &[u8]) -> Result<u64, String>;
}

/// A seeded user, as the seeder wrote it.
struct Seeded {
    id: String,
    user_name: String,
    email: String,
}

fn read_users(options: &Options) -> Vec<Seeded> {
    let file = options.text("users");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| fail(&format!("{file}: {e}")));
    let users: Vec<Seeded> = text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            Some(Seeded {
                id: fields.next()?.to_owned(),
                user_name: fields.next()?.to_owned(),
                email: fields.next()?.to_owned(),
            })
        })
        .collect();
    if users.is_empty() {
        fail(&format!("{file} has no users"));
    }
    users
}

fn pick<'a>(users: &'a [Seeded], rng: &mut StdRng) -> &'a Seeded {
    &users[rng.random_range(0..users.len())]
}

/// A light account: userName, name and one work email, no password.
fn light_user(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Load", "familyName": "Test"},
        "emails": [{"value": format!("{user_name}@load.example"), "type": "work", "primary": true}],
        "active": true,
    })
}

struct Create {
    tag: String,
}

impl Scenario for Create {
    fn call(&self, worker: usize, sequence: u64, _: &mut StdRng) -> Call {
        let user = light_user(&format!("load-{}-{worker}-{sequence}", self.tag));
        Call {
            method: Method::POST,
            path: "/scim/v2/Users".to_owned(),
            body: Some(user.to_string()),
        }
    }
    fn check(&self, status: u16, body: &[u8]) -> Result<u64, String> {
        if status == 201 {
            Ok(1)
        } else {
            Err(unexpected(status, body))
        }
    }
}

struct Bulk {
    tag: String,
    operations: usize,
}

impl Scenario for Bulk {
    fn call(&self, worker: usize, sequence: u64, _: &mut StdRng) -> Call {
        let operations: Vec<Value> = (0..self.operations)
            .map(|n| {
                json!({
                    "method": "POST",
                    "path": "/Users",
                    "bulkId": format!("u{n}"),
                    "data": light_user(&format!("bulk-{}-{worker}-{sequence}-{n}", self.tag)),
                })
            })
            .collect();
        let request = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": operations,
        });
        Call {
            method: Method::POST,
            path: "/scim/v2/Bulk".to_owned(),
            body: Some(request.to_string()),
        }
    }
    fn check(&self, status: u16, body: &[u8]) -> Result<u64, String> {
        if status != 200 {
            return Err(unexpected(status, body));
        }
        let answer: Value = serde_json::from_slice(body).map_err(|e| format!("Bulk answer: {e}"))?;
        let operations = answer["Operations"].as_array().cloned().unwrap_or_default();
        let created = operations.iter().filter(|o| o["status"] == "201").count();
        if created == self.operations {
            Ok(created as u64)
        } else {
            let failed = operations.iter().find(|o| o["status"] != "201");
            Err(format!(
                "Bulk created {created} of {}; e.g. {}",
                self.operations,
                failed.map_or_else(String::new, Value::to_string)
            ))
        }
    }
}

/// totalResults and the number of Resources of a list answer.
fn list_counts(status: u16, body: &[u8]) -> Result<(u64, usize), String> {
    if status != 200 {
        return Err(unexpected(status, body));
    }
    let answer: Value = serde_json::from_slice(body).map_err(|e| format!("list answer: {e}"))?;
    let total = answer["totalResults"]
        .as_u64()
        .ok_or_else(|| "list answer without totalResults".to_owned())?;
    let shown = answer["Resources"].as_array().map_or(0, Vec::len);
    Ok((total, shown))
}

struct FilterEq {
    users: Vec<Seeded>,
}

impl Scenario for FilterEq {
    fn call(&self, _: usize, _: u64, rng: &mut StdRng) -> Call {
        let filter = format!("userName eq \"{}\"", pick(&self.users, rng).user_name);
        Call {
            method: Method::GET,
            path: format!("/scim/v2/Users?filter={}", percent(&filter)),
            body: None,
        }
    }
    fn check(&self, status: u16, body: &[u8]) -> Result<u64, String> {
        match list_counts(status, body)? {
            (1, 1) => Ok(1),
            (total, shown) => Err(format!("totalResults {total}, {shown} Resources (not 1)")),
        }
    }
}

struct FilterContains {
    users: Vec<Seeded>,
    count: usize,
}

impl FilterContains {
    /// Six characters of the email's local part that hold at least four of its digits (the
    /// digits end the local part), or None if it has fewer than four.
    fn piece(email: &str, rng: &mut StdRng) -> Option<String> {
        const DIGITS: usize = 4;
        let local = email.split('@').next()?;
        let first_digit = local.find(|c: char| c.is_ascii_digit())?;
        if local.len() < 6 || local.len() - first_digit < DIGITS {
            return None;
        }
        let start = rng.random_range((first_digit + DIGITS).saturating_sub(6)..=local.len() - 6);
        Some(local[start..start + 6].to_owned())
    }
}

impl Scenario for FilterContains {
    fn call(&self, _: usize, _: u64, rng: &mut StdRng) -> Call {
        let piece = loop {
            if let Some(piece) = Self::piece(&pick(&self.users, rng).email, rng) {
                break piece;
            }
        };
        let filter = format!("emails co \"{piece}\"");
        Call {
            method: Method::GET,
            path: format!(
                "/scim/v2/Users?filter={}&count={}",
                percent(&filter),
                self.count
            ),
            body: None,
        }
    }
    fn check(&self, status: u16, body: &[u8]) -> Result<u64, String> {
        let (total, shown) = list_counts(status, body)?;
        if total == 0 || shown != (total as usize).min(self.count) {
            return Err(format!("totalResults {total}, {shown} Resources"));
        }
        Ok(total)
    }
}

struct Patch {
    users: Vec<Seeded>,
}

impl Scenario for Patch {
    fn call(&self, worker: usize, sequence: u64, rng: &mut StdRng) -> Call {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "displayName", "value": format!("Patched {worker} {sequence}")}],
        });
        Call {
            method: Method::PATCH,
            path: format!("/scim/v2/Users/{}", pick(&self.users, rng).id),
            body: Some(body.to_string()),
        }
    }
    fn check(&self, status: u16, body: &[u8]) -> Result<u64, String> {
        if status == 200 {
            Ok(1)
        } else {
            Err(unexpected(status, body))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The closed loop and its measurements

/// Requests that ended inside the measured window: their latencies and units.
#[derive(Default)]
struct Recorder {
    latencies: Vec<Duration>,
    units: Vec<u64>,
    errors: BTreeMap<String, u64>,
}

impl Recorder {
    fn merge(&mut self, other: Recorder) {
        self.latencies.extend(other.latencies);
        self.units.extend(other.units);
        for (what, count) in other.errors {
            *self.errors.entry(what).or_default() += count;
        }
    }
}

/// The `p`-th percentile in milliseconds (0 when empty).
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

async fn run(options: &Options, scenario: Arc<dyn Scenario>) {
    let url = options.text("url");
    let authority = url
        .trim_end_matches('/')
        .strip_prefix("http://")
        .unwrap_or_else(|| fail("--url must be http://host:port"))
        .to_owned();
    let bearer = format!("Bearer {}", options.text("token"));
    let concurrency = options.number("concurrency", 8.0).max(1.0) as usize;
    let from = Instant::now() + Duration::from_secs_f64(options.number("warmup", 2.0));
    let to = from + Duration::from_secs_f64(options.number("duration", 10.0));

    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let scenario = Arc::clone(&scenario);
        let mut connection = Connection {
            authority: authority.clone(),
            bearer: bearer.clone(),
            sender: None,
        };
        workers.push(tokio::spawn(async move {
            let mut rng = StdRng::from_rng(&mut rand::rng());
            let mut recorder = Recorder::default();
            let mut sequence = 0;
            while Instant::now() < to {
                let call = scenario.call(worker, sequence, &mut rng);
                sequence += 1;
                let started = Instant::now();
                let outcome = connection
                    .send(call)
                    .await
                    .and_then(|(status, body)| scenario.check(status, &body));
                let ended = Instant::now();
                if ended < from || ended > to {
                    continue;
                }
                match outcome {
                    Ok(units) => {
                        recorder.latencies.push(ended - started);
                        recorder.units.push(units);
                    }
                    Err(error) => *recorder.errors.entry(error).or_default() += 1,
                }
            }
            recorder
        }));
    }
    let mut all = Recorder::default();
    for worker in workers {
        all.merge(worker.await.unwrap_or_default());
    }
    for (what, count) in &all.errors {
        eprintln!("  error ×{count}: {what}");
    }
    all.latencies.sort_unstable();
    all.units.sort_unstable();
    let seconds = (to - from).as_secs_f64();
    let requests = all.latencies.len();
    let units: u64 = all.units.iter().sum();
    println!(
        "RESULT rate={:.2} requests={requests} errors={} p50_ms={:.2} p99_ms={:.2} units={units} units_rate={:.1} mean_units={:.2} median_units={}",
        requests as f64 / seconds,
        all.errors.values().sum::<u64>(),
        percentile(&all.latencies, 50.0),
        percentile(&all.latencies, 99.0),
        units as f64 / seconds,
        units as f64 / requests.max(1) as f64,
        all.units.get(all.units.len() / 2).copied().unwrap_or(0),
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((mode, rest)) = args.split_first() else {
        fail("usage: scim-loadgen create|bulk|eq|contains|patch --url U --token T …")
    };
    let options = Options::parse(rest);
    let scenario: Arc<dyn Scenario> = match mode.as_str() {
        "create" => Arc::new(Create {
            tag: options.text("tag"),
        }),
        "bulk" => Arc::new(Bulk {
            tag: options.text("tag"),
            operations: options.number("operations", 1000.0) as usize,
        }),
        "eq" => Arc::new(FilterEq {
            users: read_users(&options),
        }),
        "contains" => Arc::new(FilterContains {
            users: read_users(&options),
            count: options.number("count", 100.0) as usize,
        }),
        "patch" => Arc::new(Patch {
            users: read_users(&options),
        }),
        other => fail(&format!("unknown mode {other}")),
    };
    run(&options, scenario).await;
}
