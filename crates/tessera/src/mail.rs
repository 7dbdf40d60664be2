//! Sending notices by mail: [`SmtpNotifier`] hands them to an SMTP server (lettre, pooled,
//! rustls), [`LogNotifier`] writes them to the log for development. Both compose with
//! `tessera_web::mail::compose`; [`notifier`] picks one from the settings.
//!
//! A notice holds codes and links. Only its kind and tenant are logged ("notice sent"),
//! except by the log transport, whose whole point is to show them.

use crate::config::{MailSender, MailSettings, SmtpSecurity, SmtpSettings};
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};
use tessera_core::clock::Clock;
use tessera_core::email::Email;
use tessera_core::notify::{NoNotifier, Notice, Notifier, NotifyError};
use tessera_core::tenant::Tenant;
use tessera_web::mail::{ComposedMail, compose};

/// The notifier the settings ask for. Call it inside the tokio runtime: the SMTP pool
/// starts a task. With the log transport it warns, once, that mails are not sent.
pub fn notifier(
    settings: &MailSettings,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Arc<dyn Notifier>> {
    match settings {
        MailSettings::None => {
            tracing::info!(
                "mail_transport is none: notices (sign-up codes and the like) cannot be sent"
            );
            Ok(Arc::new(NoNotifier))
        }
        MailSettings::Log(sender) => {
            tracing::warn!(
                "DEVELOPMENT ONLY: mail_transport is log: mails are NOT sent but written to \
                 the log at WARN, codes and links included. Never use this in production"
            );
            Ok(Arc::new(LogNotifier::new(sender.clone())))
        }
        MailSettings::Smtp(smtp) => {
            tracing::info!(
                host = %smtp.host,
                port = smtp.port,
                security = ?smtp.security,
                "notices are sent by SMTP"
            );
            Ok(Arc::new(SmtpNotifier::new(smtp, clock)?))
        }
    }
}

/// Sends notices through an SMTP server, reusing connections.
pub struct SmtpNotifier {
    /// Replaced after a timeout, so that no connection left mid-conversation is reused.
    transport: Mutex<AsyncSmtpTransport<Tokio1Executor>>,
    builder: AsyncSmtpTransportBuilder,
    /// `host:port`, for error messages.
    server: String,
    timeout: Duration,
    from: MailSender,
    /// Kept only to scrub it from error messages, should a server ever echo it.
    password: Option<SecretString>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SmtpNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpNotifier")
            .field("server", &self.server)
            .field("from", &self.from.address)
            .finish_non_exhaustive()
    }
}

impl SmtpNotifier {
    /// A notifier for `settings`; it connects at the first notice, not now.
    pub fn new(settings: &SmtpSettings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        type Transport = AsyncSmtpTransport<Tokio1Executor>;
        let host = settings.host.as_str();
        let builder = match settings.security {
            SmtpSecurity::StartTls => Transport::starttls_relay(host),
            SmtpSecurity::Tls => Transport::relay(host),
            SmtpSecurity::Plaintext => Ok(Transport::builder_dangerous(host)),
        }
        .map_err(|e| anyhow::anyhow!("smtp_host: cannot set up TLS to '{host}': {e}"))?;
        let mut builder = builder.port(settings.port).timeout(Some(settings.timeout));
        if let Some(credentials) = &settings.credentials {
            builder = builder.credentials(Credentials::new(
                credentials.username.clone(),
                credentials.password.expose_secret().to_owned(),
            ));
        }
        Ok(Self {
            transport: Mutex::new(builder.clone().build()),
            builder,
            server: format!("{host}:{}", settings.port),
            timeout: settings.timeout,
            from: settings.from.clone(),
            password: settings
                .credentials
                .as_ref()
                .map(|credentials| credentials.password.clone()),
            clock,
        })
    }

    async fn deliver(
        &self,
        tenant: &Tenant,
        to: &Email,
        language: &str,
        notice: &Notice,
    ) -> Result<(), NotifyError> {
        let mail = compose(notice, tenant, language)
            .map_err(|error| NotifyError::Failed(error.to_string()))?;
        let message = build_message(
            &self.from,
            tenant,
            to,
            mail,
            SystemTime::from(self.clock.now()),
        )?;
        let transport = self
            .transport
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        // The conversation runs in a task of its own: if the caller gives up (the browser
        // went away, the request timed out), the task still finishes it, so no connection
        // goes back to the pool in the middle of a transaction.
        let mut sending = tokio::spawn(async move { transport.send(message).await });
        // lettre's own timeout covers connecting only; this bounds the whole conversation.
        match tokio::time::timeout(self.timeout, &mut sending).await {
            Ok(Ok(Ok(_))) => Ok(()),
            Ok(Ok(Err(error))) => Err(NotifyError::Failed(
                self.scrub(format!("SMTP server {}: {error}", self.server)),
            )),
            Ok(Err(_)) => Err(NotifyError::Failed(format!(
                "sending to the SMTP server {} stopped unexpectedly",
                self.server
            ))),
            Err(_) => {
                // The abandoned conversation's connection belongs to the old pool, which
                // is replaced here and never used again.
                sending.abort();
                *self
                    .transport
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = self.builder.clone().build();
                Err(NotifyError::Failed(format!(
                    "SMTP server {} did not finish within {} s",
                    self.server,
                    self.timeout.as_secs()
                )))
            }
        }
    }

    fn scrub(&self, message: String) -> String {
        match &self.password {
            Some(password) if !password.expose_secret().is_empty() => {
                message.replace(password.expose_secret(), "***")
            }
            _ => message,
        }
    }
}

#[async_trait::async_trait]
impl Notifier for SmtpNotifier {
    async fn notify(
        &self,
        tenant: &Tenant,
        to: &Email,
        language: &str,
        notice: Notice,
    ) -> Result<(), NotifyError> {
        let result = self.deliver(tenant, to, language, &notice).await;
        match &result {
            Ok(()) => tracing::info!(tenant = %tenant.slug, kind = notice.kind(), "notice sent"),
            Err(error) => tracing::warn!(
                tenant = %tenant.slug,
                kind = notice.kind(),
                %error,
                "notice not sent"
            ),
        }
        result
    }
}

/// Writes notices to the log instead of sending them: for development only.
#[derive(Debug)]
pub struct LogNotifier {
    from: MailSender,
}

impl LogNotifier {
    pub fn new(from: MailSender) -> Self {
        Self { from }
    }
}

#[async_trait::async_trait]
impl Notifier for LogNotifier {
    async fn notify(
        &self,
        tenant: &Tenant,
        to: &Email,
        language: &str,
        notice: Notice,
    ) -> Result<(), NotifyError> {
        let mail = compose(&notice, tenant, language)
            .map_err(|error| NotifyError::Failed(error.to_string()))?;
        tracing::warn!(
            tenant = %tenant.slug,
            kind = notice.kind(),
            from = %sender(&self.from, tenant),
            to = %to.as_str(),
            subject = %mail.subject,
            text = %mail.text,
            "DEVELOPMENT MAIL, NOT SENT (mail_transport = log)"
        );
        Ok(())
    }
}

/// The From of a tenant's mails: the configured name, else the tenant's display name.
fn sender(from: &MailSender, tenant: &Tenant) -> Mailbox {
    let name = from
        .name
        .clone()
        .unwrap_or_else(|| tenant.display_name.clone());
    Mailbox::new(Some(name), from.address.clone())
}

/// The message: text and HTML as `multipart/alternative`, marked as automatic (RFC 3834)
/// so that auto-responders stay quiet.
fn build_message(
    from: &MailSender,
    tenant: &Tenant,
    to: &Email,
    mail: ComposedMail,
    date: SystemTime,
) -> Result<Message, NotifyError> {
    let recipient: Address = to.as_str().parse().map_err(|_| {
        NotifyError::Failed("the recipient's address cannot be written in SMTP".to_owned())
    })?;
    Message::builder()
        .from(sender(from, tenant))
        .to(Mailbox::new(None, recipient))
        .subject(mail.subject)
        .date(date)
        .message_id(Some(message_id(&from.address)))
        .header(AutoSubmitted)
        .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))
        .map_err(|error| NotifyError::Failed(format!("the message cannot be built: {error}")))
}

/// `<128 random bits in hex@the sender's domain>`: unique, and no host name of ours.
fn message_id(from: &Address) -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("<{hex}@{}>", from.domain())
}

/// `Auto-Submitted: auto-generated` (RFC 3834).
#[derive(Debug, Clone, Copy)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}
