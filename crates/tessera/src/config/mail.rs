//! The mail settings: how notices leave Tessera (`mail_transport`), and the SMTP server's
//! address, transport security and credentials. Checked with the rest of the configuration;
//! docs/configuration.md ("Mail") describes each setting.

use super::{Config, ConfigError, invalid};
use lettre::Address;
use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;
use std::time::Duration;

/// How mails leave Tessera.
#[derive(Debug, Clone)]
pub enum MailSettings {
    /// No way of sending (the default): every notice fails as not configured.
    None,
    /// Development only: mails are written to the log at WARN, not sent.
    Log(MailSender),
    /// Mails go to an SMTP server.
    Smtp(SmtpSettings),
}

/// Who mails come from.
#[derive(Debug, Clone)]
pub struct MailSender {
    pub address: Address,
    /// The display name; `None`: each tenant's display name.
    pub name: Option<String>,
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which the server must offer (port 587).
    StartTls,
    /// TLS from the first byte ("implicit TLS", port 465).
    Tls,
    /// No encryption: loopback hosts only, unless `smtp_allow_plaintext`.
    Plaintext,
}

/// The SMTP server and how to reach it.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub credentials: Option<SmtpCredentials>,
    /// Longest one mail may take to deliver, connecting included.
    pub timeout: Duration,
    pub from: MailSender,
}

/// SMTP AUTH user and password; the password's `Debug` is redacted.
#[derive(Debug, Clone)]
pub struct SmtpCredentials {
    pub username: String,
    pub password: SecretString,
}

const LOOPBACK_HINT: &str = "localhost, 127.0.0.1 or ::1";

/// The mail part of [`Config::validate`].
pub(super) fn validate(config: &Config) -> Result<MailSettings, ConfigError> {
    match config.mail_transport.as_str() {
        "none" => Ok(MailSettings::None),
        "log" => Ok(MailSettings::Log(sender(config)?)),
        "smtp" => smtp(config).map(MailSettings::Smtp),
        other => Err(invalid(
            "mail_transport",
            format!("'{other}' is not smtp, log or none"),
        )),
    }
}

fn smtp(config: &Config) -> Result<SmtpSettings, ConfigError> {
    let host = match config.smtp_host.as_deref().map(str::trim) {
        Some(host) if !host.is_empty() => host,
        _ => {
            return Err(invalid(
                "smtp_host",
                "is required when mail_transport is smtp (the host name of the SMTP server)",
            ));
        }
    };
    if !is_host(host) {
        return Err(invalid(
            "smtp_host",
            format!("'{host}' is not a host name or IP address"),
        ));
    }
    let security = match config.smtp_tls.as_str() {
        "starttls" => SmtpSecurity::StartTls,
        "tls" => SmtpSecurity::Tls,
        "none" => SmtpSecurity::Plaintext,
        other => {
            return Err(invalid(
                "smtp_tls",
                format!("'{other}' is not starttls, tls or none"),
            ));
        }
    };
    if security == SmtpSecurity::Plaintext && !is_loopback(host) && !config.smtp_allow_plaintext {
        return Err(invalid(
            "smtp_tls",
            format!(
                "`none` would send mails and the SMTP credentials across the network in clear \
                 text; it is allowed only to a loopback host ({LOOPBACK_HINT}), not to '{host}'. \
                 Use starttls or tls, or set smtp_allow_plaintext = true if that network is trusted"
            ),
        ));
    }
    let default_port = if security == SmtpSecurity::Tls {
        465
    } else {
        587
    };
    let port = u16::try_from(config.smtp_port.unwrap_or(default_port))
        .ok()
        .filter(|port| *port != 0)
        .ok_or_else(|| invalid("smtp_port", "must be between 1 and 65535"))?;
    let username = config
        .smtp_username
        .as_deref()
        .map(str::trim)
        .filter(|name| !name.is_empty());
    let password = config
        .smtp_password
        .as_ref()
        .filter(|password| !password.expose_secret().is_empty());
    let credentials = match (username, password) {
        (Some(username), Some(password)) => Some(SmtpCredentials {
            username: username.to_owned(),
            password: password.clone(),
        }),
        (None, None) => None,
        (Some(_), None) => {
            return Err(invalid("smtp_password", "is required with smtp_username"));
        }
        (None, Some(_)) => {
            return Err(invalid("smtp_username", "is required with smtp_password"));
        }
    };
    if !(1..=300).contains(&config.smtp_timeout_seconds) {
        return Err(invalid("smtp_timeout_seconds", "must be between 1 and 300"));
    }
    Ok(SmtpSettings {
        host: host.to_owned(),
        port,
        security,
        credentials,
        timeout: Duration::from_secs(config.smtp_timeout_seconds),
        from: sender(config)?,
    })
}

fn sender(config: &Config) -> Result<MailSender, ConfigError> {
    let Some(text) = config.mail_from.as_deref().map(str::trim) else {
        return Err(invalid(
            "mail_from",
            "is required when mail_transport is smtp or log (the address mails come from, such as no-reply@example.com)",
        ));
    };
    let address: Address = text.parse().map_err(|_| {
        invalid(
            "mail_from",
            format!("'{text}' is not an email address such as no-reply@example.com"),
        )
    })?;
    let name = match config.mail_from_name.as_deref().map(str::trim) {
        None => None,
        Some(name)
            if !name.is_empty()
                && name.chars().count() <= 200
                && !name.chars().any(char::is_control) =>
        {
            Some(name.to_owned())
        }
        Some(_) => {
            return Err(invalid(
                "mail_from_name",
                "must be 1 to 200 characters without control characters",
            ));
        }
    };
    Ok(MailSender { address, name })
}

/// An IP address (IPv6 with or without brackets) or a DNS host name (one label allowed, as
/// in `localhost` or a container's name).
fn is_host(host: &str) -> bool {
    ip(host).is_some()
        || (host.len() <= 253
            && host.trim_end_matches('.').split('.').all(|label| {
                (1..=63).contains(&label.len())
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            }))
}

/// `localhost` or a loopback address: traffic that never leaves the machine.
fn is_loopback(host: &str) -> bool {
    host.trim_end_matches('.').eq_ignore_ascii_case("localhost")
        || ip(host).is_some_and(|ip| ip.to_canonical().is_loopback())
}

fn ip(host: &str) -> Option<IpAddr> {
    let bare = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "LOCALHOST.",
            "127.0.0.1",
            "127.8.9.10",
            "::1",
            "[::1]",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_loopback(host), "{host}");
            assert!(is_host(host), "{host}");
        }
        for host in [
            "smtp.example.com",
            "10.0.0.1",
            "localhost.example.com",
            "::2",
            "mailpit",
        ] {
            assert!(!is_loopback(host), "{host}");
            assert!(is_host(host), "{host}");
        }
        for host in [
            "",
            "smtp example",
            "smtp_host.example",
            "-smtp.example",
            "a..b",
            "[::1",
        ] {
            assert!(!is_host(host), "{host}");
        }
    }
}
