//! An SMTP server for tests: it listens on `127.0.0.1:0`, speaks enough of RFC 5321 for
//! lettre to deliver to it without TLS, and keeps what it receives. `AUTH PLAIN` is
//! accepted with any credentials, which are kept too, so a test can check they arrived.
//!
//! ```text
//! let sink = SmtpSink::start().await;
//! // … point the notifier at 127.0.0.1:sink.port() with smtp_tls = "none" …
//! let mail = sink.wait_for("ada@example.com", Duration::from_secs(5)).await.unwrap();
//! assert_eq!(mail.code().as_deref(), Some("123456"));
//! ```
//!
//! It never panics on what a client sends: lines and messages have size limits, unknown
//! commands get `500`, and a connection that misbehaves is answered or closed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mail_parser::{MessageParser, MimeHeaders};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Longest command line accepted (RFC 5321 allows 512 octets; AUTH lines are longer).
const MAX_LINE: usize = 4096;
/// Largest message accepted, announced as `SIZE`.
const MAX_MESSAGE: usize = 10 * 1024 * 1024;
/// Most recipients of one message.
const MAX_RECIPIENTS: usize = 100;
/// A client silent for this long is disconnected.
const IDLE: Duration = Duration::from_secs(30);

/// A message as the sink received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The reverse path of `MAIL FROM` (empty for a bounce).
    pub envelope_from: String,
    /// The forward paths of `RCPT TO`.
    pub recipients: Vec<String>,
    /// The message after dot-unstuffing, headers and body, with CRLF line ends.
    pub raw: Vec<u8>,
    /// The user and password of `AUTH PLAIN` on that connection, if any.
    pub auth: Option<(String, String)>,
}

/// How the sink answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Accept,
    /// `554` to every `MAIL FROM`.
    RefuseSenders,
}

#[derive(Debug)]
struct Shared {
    mode: Mode,
    received: Mutex<Vec<ReceivedMail>>,
    arrived: Notify,
}

/// A running sink; it stops when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    address: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    /// A sink that accepts every message.
    pub async fn start() -> Self {
        Self::start_with(Mode::Accept).await
    }

    /// A sink that greets and then refuses every sender with `554`, as a server that has
    /// blocked us would.
    pub async fn refusing() -> Self {
        Self::start_with(Mode::RefuseSenders).await
    }

    async fn start_with(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SMTP sink on 127.0.0.1:0");
        let address = listener.local_addr().expect("the sink's address");
        let shared = Arc::new(Shared {
            mode,
            received: Mutex::new(Vec::new()),
            arrived: Notify::new(),
        });
        let task = tokio::spawn(accept(listener, shared.clone()));
        Self {
            address,
            shared,
            task,
        }
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Everything received so far, oldest first.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.shared
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The first message for `recipient` (compared case-insensitively), waiting up to
    /// `timeout` for it to arrive.
    pub async fn wait_for(&self, recipient: &str, timeout: Duration) -> Option<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Registered before looking, so that an arrival in between is not missed.
            let arrived = self.shared.arrived.notified();
            let found = self.received().into_iter().find(|mail| {
                mail.recipients
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(recipient))
            });
            if found.is_some() {
                return found;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return None;
            }
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ReceivedMail {
    fn parsed(&self) -> Option<mail_parser::Message<'_>> {
        MessageParser::default().parse(&self.raw)
    }

    /// The first header called `name`, unfolded and with RFC 2047 words decoded; addresses
    /// are written as `Name <address>`.
    pub fn header(&self, name: &str) -> Option<String> {
        let message = self.parsed()?;
        let value = message.header(name)?;
        if let Some(address) = value.as_address() {
            let written: Vec<String> = address
                .iter()
                .map(|a| match (a.name(), a.address()) {
                    (Some(name), Some(address)) => format!("{name} <{address}>"),
                    (None, Some(address)) => address.to_owned(),
                    (name, None) => name.unwrap_or_default().to_owned(),
                })
                .collect();
            return Some(written.join(", "));
        }
        value
            .as_text()
            .map(str::to_owned)
            .or_else(|| message.header_raw(name).map(|raw| raw.trim().to_owned()))
    }

    /// The decoded `Subject`.
    pub fn subject(&self) -> Option<String> {
        self.parsed()?.subject().map(str::to_owned)
    }

    /// The decoded `text/plain` part (quoted-printable or base64 undone, as UTF-8).
    pub fn text(&self) -> Option<String> {
        let message = self.parsed()?;
        let part = message.text_bodies().next()?;
        is_type(part, "text", "plain")
            .then(|| part.text_contents().map(str::to_owned))
            .flatten()
    }

    /// The decoded `text/html` part.
    pub fn html(&self) -> Option<String> {
        let message = self.parsed()?;
        let part = message.html_bodies().next()?;
        is_type(part, "text", "html")
            .then(|| part.text_contents().map(str::to_owned))
            .flatten()
    }

    /// The `Content-Type` of the whole message, such as `multipart/alternative`.
    pub fn content_type(&self) -> Option<String> {
        let message = self.parsed()?;
        let content_type = message.content_type()?;
        Some(match content_type.subtype() {
            Some(sub) => format!("{}/{sub}", content_type.ctype()),
            None => content_type.ctype().to_owned(),
        })
    }

    /// The first run of exactly six digits in the text part: a one-time code.
    pub fn code(&self) -> Option<String> {
        six_digit_code(&self.text()?)
    }
}

/// Whether the part really has this type (mail-parser converts between text and HTML when
/// a message lacks one of them).
fn is_type(part: &mail_parser::MessagePart<'_>, ctype: &str, subtype: &str) -> bool {
    match part.content_type() {
        Some(t) => {
            t.ctype().eq_ignore_ascii_case(ctype)
                && t.subtype().is_some_and(|s| s.eq_ignore_ascii_case(subtype))
        }
        // RFC 2045 §5.2: no Content-Type means text/plain.
        None => ctype == "text" && subtype == "plain",
    }
}

/// The first run of exactly six ASCII digits in `text`.
pub fn six_digit_code(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        if !bytes[start].is_ascii_digit() {
            start += 1;
            continue;
        }
        let end = bytes[start..]
            .iter()
            .position(|b| !b.is_ascii_digit())
            .map_or(bytes.len(), |len| start + len);
        if end - start == 6 {
            return text.get(start..end).map(str::to_owned);
        }
        start = end;
    }
    None
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve(stream, shared.clone()));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// The state of one SMTP conversation.
#[derive(Debug, Default)]
struct Transaction {
    from: Option<String>,
    recipients: Vec<String>,
}

/// What reading one line gave.
enum Line {
    Text(String),
    TooLong,
    Closed,
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    // Small replies, each awaited by the client: without this, Nagle's algorithm and
    // delayed ACKs cost 40 ms a round trip.
    let _ = stream.set_nodelay(true);
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    // Any write error means the client is gone: the conversation simply ends.
    let _ = converse(&mut reader, &mut writer, &shared).await;
}

async fn converse(
    reader: &mut (impl AsyncBufRead + Unpin),
    writer: &mut (impl AsyncWrite + Unpin),
    shared: &Shared,
) -> std::io::Result<()> {
    reply(writer, "220 sink.test ESMTP Tessera test sink").await?;
    let mut transaction = Transaction::default();
    let mut auth: Option<(String, String)> = None;
    loop {
        let line = match read_line(reader, MAX_LINE).await? {
            Line::Text(line) => line,
            Line::TooLong => {
                reply(writer, "500 5.5.2 line too long").await?;
                continue;
            }
            Line::Closed => return Ok(()),
        };
        let (verb, argument) = match line.split_once(' ') {
            Some((verb, argument)) => (verb.to_ascii_uppercase(), argument.trim()),
            None => (line.to_ascii_uppercase(), ""),
        };
        match verb.as_str() {
            "EHLO" => {
                transaction = Transaction::default();
                let lines = format!(
                    "250-sink.test\r\n250-8BITMIME\r\n250-SIZE {MAX_MESSAGE}\r\n250 AUTH PLAIN"
                );
                reply(writer, &lines).await?;
            }
            "HELO" => {
                transaction = Transaction::default();
                reply(writer, "250 sink.test").await?;
            }
            "AUTH" => match authenticate(reader, writer, argument).await? {
                Some(credentials) => {
                    auth = Some(credentials);
                    reply(writer, "235 2.7.0 authenticated").await?;
                }
                None => reply(writer, "535 5.7.8 authentication failed").await?,
            },
            "MAIL" if shared.mode == Mode::RefuseSenders => {
                reply(writer, "554 5.7.1 sender refused by the test sink").await?;
            }
            "MAIL" => match path(argument, "FROM:") {
                Some(from) => {
                    transaction = Transaction {
                        from: Some(from),
                        recipients: Vec::new(),
                    };
                    reply(writer, "250 2.1.0 ok").await?;
                }
                None => reply(writer, "501 5.5.4 syntax: MAIL FROM:<address>").await?,
            },
            "RCPT" if transaction.from.is_none() => {
                reply(writer, "503 5.5.1 MAIL first").await?;
            }
            "RCPT" if transaction.recipients.len() >= MAX_RECIPIENTS => {
                reply(writer, "452 4.5.3 too many recipients").await?;
            }
            "RCPT" => match path(argument, "TO:").filter(|to| !to.is_empty()) {
                Some(to) => {
                    transaction.recipients.push(to);
                    reply(writer, "250 2.1.5 ok").await?;
                }
                None => reply(writer, "501 5.5.4 syntax: RCPT TO:<address>").await?,
            },
            "DATA" if transaction.recipients.is_empty() => {
                reply(writer, "503 5.5.1 RCPT first").await?;
            }
            "DATA" => {
                reply(writer, "354 end with <CRLF>.<CRLF>").await?;
                let Some(raw) = read_data(reader).await? else {
                    return Ok(());
                };
                let done = std::mem::take(&mut transaction);
                match raw {
                    Some(raw) => {
                        store(shared, done, raw, auth.clone());
                        reply(writer, "250 2.0.0 queued").await?;
                    }
                    None => reply(writer, "552 5.3.4 message too big").await?,
                }
            }
            "RSET" => {
                transaction = Transaction::default();
                reply(writer, "250 2.0.0 ok").await?;
            }
            "NOOP" => reply(writer, "250 2.0.0 ok").await?,
            "QUIT" => {
                reply(writer, "221 2.0.0 bye").await?;
                return Ok(());
            }
            _ => reply(writer, "500 5.5.2 command not recognised").await?,
        }
    }
}

fn store(shared: &Shared, transaction: Transaction, raw: Vec<u8>, auth: Option<(String, String)>) {
    shared
        .received
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(ReceivedMail {
            envelope_from: transaction.from.unwrap_or_default(),
            recipients: transaction.recipients,
            raw,
            auth,
        });
    shared.arrived.notify_waiters();
}

/// `AUTH PLAIN [initial-response]` (RFC 4616); other mechanisms are refused.
async fn authenticate(
    reader: &mut (impl AsyncBufRead + Unpin),
    writer: &mut (impl AsyncWrite + Unpin),
    argument: &str,
) -> std::io::Result<Option<(String, String)>> {
    let (mechanism, initial) = argument.split_once(' ').unwrap_or((argument, ""));
    if !mechanism.eq_ignore_ascii_case("PLAIN") {
        return Ok(None);
    }
    let response = if initial.is_empty() {
        reply(writer, "334 ").await?;
        match read_line(reader, MAX_LINE).await? {
            Line::Text(line) => line,
            Line::TooLong | Line::Closed => return Ok(None),
        }
    } else {
        initial.to_owned()
    };
    let Ok(decoded) = STANDARD.decode(response.trim()) else {
        return Ok(None);
    };
    let mut fields = decoded.split(|b| *b == 0);
    let (_authzid, user, password) = (fields.next(), fields.next(), fields.next());
    Ok(match (user, password) {
        (Some(user), Some(password)) => Some((
            String::from_utf8_lossy(user).into_owned(),
            String::from_utf8_lossy(password).into_owned(),
        )),
        _ => None,
    })
}

/// The address of `FROM:<a@b> PARAMS` or `TO:<a@b>`.
fn path(argument: &str, prefix: &str) -> Option<String> {
    let head = argument.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = argument.get(prefix.len()..)?.trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    inner.get(..end).map(str::to_owned)
}

/// The message after `DATA`, dot-unstuffed, up to the line with a lone dot. `Ok(None)`: the
/// client went away; `Ok(Some(None))`: it was too big (read to the end, then dropped).
async fn read_data(
    reader: &mut (impl AsyncBufRead + Unpin),
) -> std::io::Result<Option<Option<Vec<u8>>>> {
    let mut message = Vec::new();
    let mut too_big = false;
    // A line longer than MAX_LINE arrives in pieces; only a line's first piece can be the
    // terminator or carry a stuffed dot.
    let mut at_line_start = true;
    loop {
        let mut line = Vec::new();
        let read = tokio::time::timeout(IDLE, read_until_limited(reader, &mut line, MAX_LINE))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        if read == 0 {
            return Ok(None);
        }
        let starts_line = std::mem::replace(&mut at_line_start, line.ends_with(b"\n"));
        if starts_line && (line == b".\r\n" || line == b".\n") {
            return Ok(Some((!too_big).then_some(message)));
        }
        let content = match line.strip_prefix(b".") {
            Some(unstuffed) if starts_line => unstuffed,
            _ => &line,
        };
        if message.len() + content.len() > MAX_MESSAGE {
            too_big = true;
            message.clear();
        }
        if !too_big {
            message.extend_from_slice(content);
        }
    }
}

async fn read_line(
    reader: &mut (impl AsyncBufRead + Unpin),
    limit: usize,
) -> std::io::Result<Line> {
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(IDLE, read_until_limited(reader, &mut bytes, limit))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    if read == 0 {
        return Ok(Line::Closed);
    }
    if !bytes.ends_with(b"\n") {
        // Over the limit: skip the rest of that line.
        let mut rest = Vec::new();
        loop {
            rest.clear();
            let more = read_until_limited(reader, &mut rest, limit).await?;
            if more == 0 || rest.ends_with(b"\n") {
                break;
            }
        }
        return Ok(Line::TooLong);
    }
    let text = String::from_utf8_lossy(&bytes);
    Ok(Line::Text(text.trim_end_matches(['\r', '\n']).to_owned()))
}

/// Reads up to and including `\n`, but no more than `limit` bytes.
async fn read_until_limited(
    reader: &mut (impl AsyncBufRead + Unpin),
    into: &mut Vec<u8>,
    limit: usize,
) -> std::io::Result<usize> {
    let mut total = 0;
    while total < limit {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            break;
        }
        let room = limit - total;
        let window = &available[..available.len().min(room)];
        let (take, done) = match window.iter().position(|b| *b == b'\n') {
            Some(at) => (at + 1, true),
            None => (window.len(), false),
        };
        into.extend_from_slice(&window[..take]);
        reader.consume(take);
        total += take;
        if done {
            break;
        }
    }
    Ok(total)
}

async fn reply(writer: &mut (impl AsyncWrite + Unpin), line: &str) -> std::io::Result<()> {
    writer.write_all(line.as_bytes()).await?;
    writer.write_all(b"\r\n").await?;
    writer.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn talk(sink: &SmtpSink, script: &[u8]) -> String {
        let mut stream = TcpStream::connect(sink.address()).await.unwrap();
        stream.write_all(script).await.unwrap();
        let mut answer = String::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut answer))
            .await
            .unwrap()
            .unwrap();
        answer
    }

    #[tokio::test]
    async fn a_whole_conversation_with_dot_unstuffing() {
        let sink = SmtpSink::start().await;
        let answer = talk(
            &sink,
            b"EHLO client\r\nAUTH PLAIN AHVzZXIAc2VjcmV0\r\nMAIL FROM:<a@example.com> BODY=8BITMIME\r\n\
              RCPT TO:<B@example.com>\r\nDATA\r\nSubject: hi\r\n\r\n..leading dot\r\nbody 123456\r\n.\r\n\
              NOOP\r\nRSET\r\nVRFY x\r\nQUIT\r\n",
        )
        .await;
        let codes: Vec<&str> = answer.lines().map(|l| &l[..3]).collect();
        assert_eq!(
            codes,
            [
                "220", "250", "250", "250", "250", "235", "250", "250", "354", "250", "250", "250",
                "500", "221"
            ]
        );
        let mail = sink
            .wait_for("b@example.com", Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(mail.envelope_from, "a@example.com");
        assert_eq!(
            mail.raw,
            b"Subject: hi\r\n\r\n.leading dot\r\nbody 123456\r\n"
        );
        assert_eq!(mail.auth, Some(("user".into(), "secret".into())));
        assert_eq!(mail.subject().as_deref(), Some("hi"));
        assert_eq!(mail.code().as_deref(), Some("123456"));
    }

    #[tokio::test]
    async fn bad_sequences_and_garbage_get_errors_not_panics() {
        let sink = SmtpSink::refusing().await;
        let mut script =
            b"RCPT TO:<x@example.com>\r\nDATA\r\nMAIL FROM:<a@example.com>\r\n\xff\xfe\r\n"
                .to_vec();
        script.extend(std::iter::repeat_n(b'x', MAX_LINE * 3));
        script.extend_from_slice(b"\r\nAUTH LOGIN\r\nAUTH PLAIN !!!\r\nQUIT\r\n");
        let answer = talk(&sink, &script).await;
        let codes: Vec<&str> = answer.lines().map(|l| &l[..3]).collect();
        assert_eq!(
            codes,
            [
                "220", "503", "503", "554", "500", "500", "535", "535", "221"
            ]
        );
        assert!(sink.received().is_empty());
        assert!(
            sink.wait_for("x@example.com", Duration::from_millis(50))
                .await
                .is_none()
        );
    }

    proptest::proptest! {
        #[test]
        fn any_input_ends_the_conversation_without_a_panic(
            script in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::string::bytes_regex("(?s-u).{0,40}").unwrap(),
                    proptest::strategy::Just(b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n".to_vec()),
                    proptest::strategy::Just(b"\r\n.\r\n".to_vec()),
                    proptest::strategy::Just(b"AUTH PLAIN\r\n".to_vec()),
                ],
                0..20,
            )
        ) {
            let shared = Shared {
                mode: Mode::Accept,
                received: Mutex::new(Vec::new()),
                arrived: Notify::new(),
            };
            let script = script.concat();
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let ended = runtime.block_on(async {
                let mut reader = &script[..];
                converse(&mut reader, &mut tokio::io::sink(), &shared).await
            });
            proptest::prop_assert!(ended.is_ok());
        }
    }

    #[test]
    fn six_digit_codes() {
        assert_eq!(six_digit_code("code: 123456.").as_deref(), Some("123456"));
        assert_eq!(
            six_digit_code("1234567 and 654321").as_deref(),
            Some("654321")
        );
        assert_eq!(six_digit_code("12345 é 2026"), None);
    }
}
