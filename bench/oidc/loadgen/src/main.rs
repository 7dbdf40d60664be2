//! The load generator of bench/oidc/run.sh, for the two scenarios wrk handles awkwardly:
//! chains of rotating refresh tokens (each worker holds its own current token) and the full
//! hosted sign-in flow of Tessera (authorize → login page → email → password → continue →
//! token, with cookies and PKCE). One thread (pin it with taskset), one keep-alive HTTP/1.1
//! connection per worker.
//!
//!   oidc-loadgen refresh  --url U --token-path P --client ID:SECRET --tokens FILE
//!                         [--concurrency N] [--warmup S] [--duration S]
//!   oidc-loadgen grants   --url U --client ID:SECRET --redirect-uri R --users FILE
//!                         --count N --out FILE [--concurrency N]
//!   oidc-loadgen signin   --url U --client ID:SECRET --redirect-uri R --users FILE
//!                         [--concurrency N] [--warmup S] [--duration S]
//!   oidc-loadgen overload --url U --client ID:SECRET --redirect-uri R --users FILE
//!                         --rate PER_SECOND [--duration S]
//!
//! `--tokens` has one refresh token a line (at least one per worker); `--users` has
//! `email<TAB>password` lines. Each mode prints one `RESULT key=value …` line on stdout
//! (rates per second, latencies in milliseconds) and error details on stderr.
//!
//!   oidc-loadgen static   --listen ADDR --file FILE
//!
//! `static` is not load: it serves FILE as `application/json` to every request with a bare
//! hyper HTTP/1.1 server (one thread), the ceiling any Rust server reaches on that core, so
//! the discovery and JWKS figures can be read against it.
//!
//! `overload` is open-loop: it starts a sign-in flow (each on a new connection, as a new
//! browser) every 1/RATE seconds, whatever the server answers, and reports how many ended in
//! a 503 from the password step and how fast those came.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

type Error = String;

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
    eprintln!("oidc-loadgen: {message}");
    std::process::exit(2)
}

/// Everything a worker needs to know about the server and the client.
struct Target {
    /// `host:port`
    authority: String,
    /// `http://host:port`, stripped from absolute `Location`s.
    base: String,
    basic: String,
    client_id: String,
    redirect_uri: String,
    token_path: String,
    users: Vec<(String, String)>,
}

impl Target {
    fn new(options: &Options, needs_users: bool) -> Self {
        let base = options.text("url").trim_end_matches('/').to_owned();
        let authority = base
            .strip_prefix("http://")
            .unwrap_or_else(|| fail("--url must be http://host:port"))
            .to_owned();
        let client = options.text("client");
        let (client_id, _) = client
            .split_once(':')
            .unwrap_or_else(|| fail("--client is ID:SECRET"));
        let users = if needs_users {
            let text = std::fs::read_to_string(options.text("users"))
                .unwrap_or_else(|e| fail(&format!("--users: {e}")));
            text.lines()
                .filter_map(|line| line.split_once('\t'))
                .map(|(email, password)| (email.to_owned(), password.to_owned()))
                .collect()
        } else {
            Vec::new()
        };
        Self {
            authority,
            base,
            basic: format!("Basic {}", STANDARD.encode(&client)),
            client_id: client_id.to_owned(),
            redirect_uri: options.0.get("redirect-uri").cloned().unwrap_or_default(),
            token_path: options
                .0
                .get("token-path")
                .cloned()
                .unwrap_or_else(|| "/oauth2/token".to_owned()),
            users,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 over one kept-alive connection

struct Response {
    status: u16,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: Bytes,
}

struct Connection {
    authority: String,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Connection {
    fn new(target: &Target) -> Self {
        Self {
            authority: target.authority.clone(),
            sender: None,
        }
    }

    async fn sender(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, Error> {
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

    /// One request; `form` makes it a POST of `application/x-www-form-urlencoded`.
    async fn send(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        form: Option<String>,
    ) -> Result<Response, Error> {
        let authority = self.authority.clone();
        let mut request = Request::builder()
            .method(if form.is_some() {
                Method::POST
            } else {
                Method::GET
            })
            .uri(path)
            .header("host", authority);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if form.is_some() {
            request = request.header("content-type", "application/x-www-form-urlencoded");
        }
        let request = request
            .body(Full::new(Bytes::from(form.unwrap_or_default())))
            .map_err(|e| e.to_string())?;
        let response = self
            .sender()
            .await?
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = response.status().as_u16();
        let header = |name| {
            response
                .headers()
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_owned))
        };
        let location = header("location").next();
        let set_cookies = header("set-cookie").collect();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok(Response {
            status,
            location,
            set_cookies,
            body,
        })
    }
}

fn encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={}", percent(value)))
        .collect::<Vec<_>>()
        .join("&")
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

fn query_value(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| unpercent(value))
    })
}

fn unpercent(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn json_field(body: &[u8], name: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get(name)?.as_str().map(str::to_owned)
}

// ---------------------------------------------------------------------------------------------
// Measurements

/// Completed operations and their latencies inside the measured window.
#[derive(Default)]
struct Recorder {
    latencies: Vec<Duration>,
    errors: BTreeMap<String, u64>,
}

/// The measured window: operations that end inside it count.
#[derive(Clone, Copy)]
struct Window {
    from: Instant,
    to: Instant,
}

impl Window {
    fn new(warmup: f64, duration: f64) -> Self {
        let from = Instant::now() + Duration::from_secs_f64(warmup);
        Self {
            from,
            to: from + Duration::from_secs_f64(duration),
        }
    }
    fn seconds(&self) -> f64 {
        (self.to - self.from).as_secs_f64()
    }
    fn counts(&self, at: Instant) -> bool {
        at >= self.from && at <= self.to
    }
}

impl Recorder {
    fn ok(&mut self, window: Window, started: Instant) {
        let now = Instant::now();
        if window.counts(now) {
            self.latencies.push(now - started);
        }
    }
    fn error(&mut self, what: String) {
        *self.errors.entry(what).or_default() += 1;
    }
    fn merge(&mut self, other: Recorder) {
        self.latencies.extend(other.latencies);
        for (what, count) in other.errors {
            *self.errors.entry(what).or_default() += count;
        }
    }
    fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
    fn report_errors(&self) {
        for (what, count) in &self.errors {
            eprintln!("  error {what}: {count}");
        }
    }
}

/// The `p`-th percentile in milliseconds (0 when empty).
fn percentile(latencies: &mut [Duration], p: f64) -> f64 {
    if latencies.is_empty() {
        return 0.0;
    }
    latencies.sort_unstable();
    let index = ((p / 100.0) * (latencies.len() - 1) as f64).round() as usize;
    latencies[index].as_secs_f64() * 1000.0
}

// ---------------------------------------------------------------------------------------------
// The sign-in flow

enum Failure {
    /// The password step answered 503 (the hasher's queue is full) after this long.
    Busy(Duration),
    Other(String),
}

fn step(name: &str, response: &Response, expected: u16) -> Result<(), Failure> {
    if response.status == expected {
        Ok(())
    } else {
        let body = String::from_utf8_lossy(&response.body);
        let excerpt: String = body.chars().take(160).collect();
        Err(Failure::Other(format!(
            "{name}: HTTP {} {}",
            response.status,
            excerpt.replace('\n', " ")
        )))
    }
}

fn path_of(target: &Target, location: Option<&String>) -> Result<String, Failure> {
    let location =
        location.ok_or_else(|| Failure::Other("redirect without Location".to_owned()))?;
    Ok(location
        .strip_prefix(&target.base)
        .unwrap_or(location)
        .to_owned())
}

/// A browser's cookie jar for one flow: name → value, sent back as one `Cookie` header.
#[derive(Default)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn take(&mut self, response: &Response) {
        for cookie in &response.set_cookies {
            let pair = cookie.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                self.0
                    .insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }
    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn hidden_input(body: &[u8], name: &str) -> Option<String> {
    let html = std::str::from_utf8(body).ok()?;
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&#x2f;", "/")
            .replace("&amp;", "&"),
    )
}

/// One complete sign-in with the user's password; returns the refresh token.
async fn sign_in(
    connection: &mut Connection,
    target: &Target,
    user: &(String, String),
) -> Result<String, Failure> {
    let other = Failure::Other;
    let verifier = random_token();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let state = random_token();
    let authorize = format!(
        "/oauth2/authorize?{}",
        encode(&[
            ("response_type", "code"),
            ("client_id", &target.client_id),
            ("redirect_uri", &target.redirect_uri),
            ("scope", "openid offline_access"),
            ("state", &state),
            ("nonce", &random_token()),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
    );
    let mut jar = Jar::default();
    // 1. The authorization request: a redirect to the login page.
    let response = connection
        .send(&authorize, &[], None)
        .await
        .map_err(other)?;
    step("authorize", &response, 303)?;
    let login = path_of(target, response.location.as_ref())?;
    let handle = query_value(&login, "auth").ok_or_else(|| other("no auth handle".to_owned()))?;
    // 2. The email page; it sets the CSRF cookie.
    let response = connection.send(&login, &[], None).await.map_err(other)?;
    step("login page", &response, 200)?;
    jar.take(&response);
    let csrf =
        hidden_input(&response.body, "csrf").ok_or_else(|| other("no csrf input".to_owned()))?;
    // 3. The email step: the password page.
    let cookies = jar.header();
    let form = encode(&[("csrf", &csrf), ("auth", &handle), ("email", &user.0)]);
    let response = connection
        .send("/login", &[("cookie", &cookies)], Some(form))
        .await
        .map_err(other)?;
    step("email step", &response, 200)?;
    // 4. The password step: Argon2id, a new session, a redirect to continue.
    let form = encode(&[
        ("csrf", &csrf),
        ("auth", &handle),
        ("email", &user.0),
        ("password", &user.1),
    ]);
    let started = Instant::now();
    let response = connection
        .send("/login/password", &[("cookie", &cookies)], Some(form))
        .await
        .map_err(other)?;
    if response.status == 503 {
        return Err(Failure::Busy(started.elapsed()));
    }
    step("password step", &response, 303)?;
    jar.take(&response);
    let resume = path_of(target, response.location.as_ref())?;
    // 5. Continue: the redirect to the client with the code.
    let cookies = jar.header();
    let response = connection
        .send(&resume, &[("cookie", &cookies)], None)
        .await
        .map_err(other)?;
    step("continue", &response, 303)?;
    let callback = response.location.unwrap_or_default();
    if query_value(&callback, "state").as_deref() != Some(state.as_str()) {
        return Err(other(format!(
            "continue: no code for the client: {callback}"
        )));
    }
    let code =
        query_value(&callback, "code").ok_or_else(|| other(format!("no code in {callback}")))?;
    // 6. The token request.
    let form = encode(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", &target.redirect_uri),
        ("code_verifier", &verifier),
    ]);
    let response = connection
        .send(
            &target.token_path,
            &[("authorization", &target.basic)],
            Some(form),
        )
        .await
        .map_err(other)?;
    step("token", &response, 200)?;
    json_field(&response.body, "refresh_token")
        .ok_or_else(|| other("token: no refresh_token".to_owned()))
}

// ---------------------------------------------------------------------------------------------
// Modes

/// Closed loop: `concurrency` workers, each refreshing its own chain as fast as it can.
async fn refresh(options: &Options) {
    let target = Arc::new(Target::new(options, false));
    let concurrency = options.number("concurrency", 16.0) as usize;
    let window = Window::new(
        options.number("warmup", 2.0),
        options.number("duration", 10.0),
    );
    let text = std::fs::read_to_string(options.text("tokens"))
        .unwrap_or_else(|e| fail(&format!("--tokens: {e}")));
    let tokens: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if tokens.len() < concurrency {
        fail(&format!(
            "{} tokens for {concurrency} workers",
            tokens.len()
        ));
    }
    let mut workers = Vec::new();
    for mut token in tokens.into_iter().take(concurrency) {
        let target = Arc::clone(&target);
        workers.push(tokio::spawn(async move {
            let mut recorder = Recorder::default();
            let mut connection = Connection::new(&target);
            while Instant::now() < window.to {
                let form = encode(&[("grant_type", "refresh_token"), ("refresh_token", &token)]);
                let started = Instant::now();
                let answer = connection
                    .send(
                        &target.token_path,
                        &[("authorization", &target.basic)],
                        Some(form),
                    )
                    .await;
                match answer {
                    Ok(response) if response.status == 200 => {
                        match json_field(&response.body, "refresh_token") {
                            Some(next) => {
                                token = next;
                                recorder.ok(window, started);
                            }
                            None => {
                                recorder.error("200 without refresh_token: chain ended".to_owned());
                                break;
                            }
                        }
                    }
                    Ok(response) => {
                        let body = String::from_utf8_lossy(&response.body)
                            .chars()
                            .take(120)
                            .collect::<String>();
                        recorder.error(format!("HTTP {} {body}: chain ended", response.status));
                        break;
                    }
                    Err(error) => {
                        recorder.error(format!("{error}: chain ended"));
                        break;
                    }
                }
            }
            recorder
        }));
    }
    let mut all = Recorder::default();
    for worker in workers {
        all.merge(worker.await.unwrap_or_default());
    }
    all.report_errors();
    let count = all.latencies.len();
    println!(
        "RESULT rate={:.1} requests={count} errors={} p50_ms={:.2} p99_ms={:.2}",
        count as f64 / window.seconds(),
        all.error_count(),
        percentile(&mut all.latencies, 50.0),
        percentile(&mut all.latencies, 99.0),
    );
}

/// `count` sign-ins by `concurrency` workers; their refresh tokens go to `--out`.
async fn grants(options: &Options) {
    let target = Arc::new(Target::new(options, true));
    let count = options.number("count", 16.0) as usize;
    let concurrency = (options.number("concurrency", 4.0) as usize)
        .min(count)
        .max(1);
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let target = Arc::clone(&target);
        workers.push(tokio::spawn(async move {
            let mut connection = Connection::new(&target);
            let mut tokens = Vec::new();
            for index in (worker..count).step_by(concurrency) {
                let user = &target.users[index % target.users.len()];
                match sign_in(&mut connection, &target, user).await {
                    Ok(token) => tokens.push(token),
                    Err(Failure::Busy(_)) => fail("sign-in: 503 while seeding grants"),
                    Err(Failure::Other(error)) => fail(&format!("sign-in: {error}")),
                }
            }
            tokens
        }));
    }
    let mut tokens = Vec::new();
    for worker in workers {
        tokens.extend(worker.await.unwrap_or_default());
    }
    std::fs::write(options.text("out"), tokens.join("\n") + "\n")
        .unwrap_or_else(|e| fail(&format!("--out: {e}")));
    println!("RESULT grants={}", tokens.len());
}

/// Closed loop: `concurrency` workers, each signing in again and again (users round robin).
async fn signin(options: &Options) {
    let target = Arc::new(Target::new(options, true));
    let concurrency = options.number("concurrency", 4.0) as usize;
    let window = Window::new(
        options.number("warmup", 2.0),
        options.number("duration", 10.0),
    );
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let target = Arc::clone(&target);
        workers.push(tokio::spawn(async move {
            let mut recorder = Recorder::default();
            let mut connection = Connection::new(&target);
            let mut index = worker;
            while Instant::now() < window.to {
                let user = &target.users[index % target.users.len()];
                index += concurrency;
                let started = Instant::now();
                match sign_in(&mut connection, &target, user).await {
                    Ok(_) => recorder.ok(window, started),
                    Err(Failure::Busy(_)) => recorder.error("password step: HTTP 503".to_owned()),
                    Err(Failure::Other(error)) => recorder.error(error),
                }
            }
            recorder
        }));
    }
    let mut all = Recorder::default();
    for worker in workers {
        all.merge(worker.await.unwrap_or_default());
    }
    all.report_errors();
    let count = all.latencies.len();
    println!(
        "RESULT rate={:.2} signins={count} errors={} p50_ms={:.1} p99_ms={:.1}",
        count as f64 / window.seconds(),
        all.error_count(),
        percentile(&mut all.latencies, 50.0),
        percentile(&mut all.latencies, 99.0),
    );
}

/// Open loop: a new sign-in (on a new connection) every 1/rate s for `duration` s.
async fn overload(options: &Options) {
    let target = Arc::new(Target::new(options, true));
    let rate = options.number("rate", 50.0);
    let duration = options.number("duration", 10.0);
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let begin = Instant::now();
    let end = begin + Duration::from_secs_f64(duration);
    let mut flows = Vec::new();
    let mut index = 0;
    while Instant::now() < end {
        ticker.tick().await;
        let target = Arc::clone(&target);
        let user = target.users[index % target.users.len()].clone();
        index += 1;
        flows.push(tokio::spawn(async move {
            let mut connection = Connection::new(&target);
            let started = Instant::now();
            let outcome = sign_in(&mut connection, &target, &user).await;
            (outcome, started.elapsed())
        }));
    }
    let started = flows.len();
    let (mut ok, mut busy, mut others) = (Vec::new(), Vec::new(), Recorder::default());
    for flow in flows {
        let outcome = flow.await;
        match outcome {
            Ok((Ok(_), elapsed)) => ok.push(elapsed),
            Ok((Err(Failure::Busy(latency)), _)) => busy.push(latency),
            Ok((Err(Failure::Other(error)), _)) => others.error(error),
            Err(error) => others.error(error.to_string()),
        }
    }
    // Accepted sign-ins per second from the first start until the last one ends (the queue
    // drains after the last start).
    let elapsed = begin.elapsed().as_secs_f64();
    others.report_errors();
    println!(
        "RESULT offered={:.1} started={started} ok={} busy={} errors={} ok_rate={:.2} busy_share={:.3} \
         busy_p50_ms={:.2} busy_p99_ms={:.2} ok_p50_ms={:.0} ok_p99_ms={:.0} ok_max_ms={:.0}",
        rate,
        ok.len(),
        busy.len(),
        others.error_count(),
        ok.len() as f64 / elapsed,
        busy.len() as f64 / started.max(1) as f64,
        percentile(&mut busy, 50.0),
        percentile(&mut busy, 99.0),
        percentile(&mut ok, 50.0),
        percentile(&mut ok, 99.0),
        percentile(&mut ok, 100.0),
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((mode, rest)) = args.split_first() else {
        fail("usage: oidc-loadgen refresh|grants|signin|overload --url … (see the source's header)")
    };
    let options = Options::parse(rest);
    match mode.as_str() {
        "refresh" => refresh(&options).await,
        "grants" => grants(&options).await,
        "signin" => signin(&options).await,
        "overload" => overload(&options).await,
        "static" => serve_static(&options).await,
        other => fail(&format!("unknown mode {other}")),
    }
}

// ---------------------------------------------------------------------------------------------
// static: the ceiling

async fn serve_static(options: &Options) {
    let listen = options.text("listen");
    let body = Bytes::from(
        std::fs::read(options.text("file")).unwrap_or_else(|e| fail(&format!("--file: {e}"))),
    );
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .unwrap_or_else(|e| fail(&format!("--listen {listen}: {e}")));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let body = body.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |_request| {
                let response = hyper::Response::builder()
                    .header("content-type", "application/json")
                    .body(Full::new(body.clone()));
                async move { response }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
