//! Tessera's configuration: one typed struct, loaded once in layers — defaults, then
//! `tessera.toml` (or `--config FILE`), then `TESSERA_*` environment variables, then
//! command-line flags — and validated at start with errors that name the setting.
//! docs/configuration.md lists every setting.

mod mail;
mod sms;

pub use mail::{MailSender, MailSettings, SmtpCredentials, SmtpSecurity, SmtpSettings};
pub use sms::{HttpSmsSettings, SmsAuth, SmsSettings};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Value};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tessera_core::oauth::client::SigningAlgorithm;
use tessera_core::password::Argon2Params;
use tessera_core::sealing::SealingKey;
use url::Url;

/// Settings read from the environment (`TESSERA_<NAME>`); others there are ignored, so
/// variables of other tools (such as the test suite's) cannot break start-up.
const ENVIRONMENT_KEYS: [&str; 53] = [
    "listen",
    "public_url",
    "data_dir",
    "database_url",
    "database_max_connections",
    "admin_token",
    "body_limit_bytes",
    "request_timeout_seconds",
    "header_read_timeout_seconds",
    "log_format",
    "log_level",
    "key_encryption_key",
    "argon2_memory_kib",
    "argon2_iterations",
    "argon2_parallelism",
    "password_workers",
    "password_queue",
    "access_token_algorithm",
    "outbound_allow_private",
    "key_rotation_days",
    "mail_transport",
    "smtp_host",
    "smtp_port",
    "smtp_tls",
    "smtp_allow_plaintext",
    "smtp_username",
    "smtp_password",
    "mail_from",
    "mail_from_name",
    "smtp_timeout_seconds",
    "sms_transport",
    "sms_http_url",
    "sms_http_allow_plaintext",
    "sms_http_auth",
    "sms_http_token",
    "sms_http_username",
    "sms_http_password",
    "sms_http_header_name",
    "sms_http_header_value",
    "sms_http_content_type",
    "sms_http_body_template",
    "sms_from",
    "sms_timeout_seconds",
    "sms_allowed_country_codes",
    "geoip_databases",
    "ip_deny_list",
    "tor_exit_list",
    "trusted_proxies",
    "captcha_siteverify_url",
    "rate_limit_sign_in_per_minute",
    "rate_limit_sign_up_per_minute",
    "rate_limit_codes_per_minute",
    "rate_limit_token_per_minute",
];

/// Read when no `--config` is given and it exists in the working directory.
const DEFAULT_FILE: &str = "tessera.toml";

/// Everything `tessera serve` can be told.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: String,
    /// The issuer and base of every link Tessera sends; defaults to `http://<listen>`.
    pub public_url: Option<String>,
    /// Where the embedded database and other local state live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Most connections in the database pool.
    pub database_max_connections: u32,
    /// Bootstrap bearer token with `admin` scope on the default tenant.
    pub admin_token: Option<SecretString>,
    /// Largest request body accepted.
    pub body_limit_bytes: usize,
    /// Longest time one request may take.
    pub request_timeout_seconds: u64,
    /// Longest time a client may take to send a request's headers (slowloris defence).
    pub header_read_timeout_seconds: u64,
    /// `text` or `json`.
    pub log_format: String,
    /// A tracing filter such as `info` or `tessera=debug,info`; `RUST_LOG` wins if set.
    pub log_level: String,
    /// Base64 of 32 bytes that seals signing keys and identity verification secrets (and
    /// later TOTP seeds) at rest; without
    /// it, one is generated into `<data_dir>/key-encryption.key` on first start.
    pub key_encryption_key: Option<SecretString>,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// Threads that hash passwords; 0 means one per core.
    pub password_workers: usize,
    /// Password checks that may wait; beyond that sign-ins get a fast 503.
    pub password_queue: usize,
    /// `ES256` (default), `EdDSA` or `RS256`.
    pub access_token_algorithm: String,
    /// Let outbound HTTP (back-channel logout, identity verification providers) reach
    /// private and loopback addresses.
    pub outbound_allow_private: bool,
    /// Days after which a signing key gets a successor (0: only `tessera keys rotate`).
    pub key_rotation_days: u32,
    /// `none` (notices fail as not configured), `smtp`, or `log` (development only).
    pub mail_transport: String,
    pub smtp_host: Option<String>,
    /// Default 587, or 465 with `smtp_tls = "tls"`.
    pub smtp_port: Option<u32>,
    /// `starttls`, `tls` or `none` (loopback hosts only, unless `smtp_allow_plaintext`).
    pub smtp_tls: String,
    pub smtp_allow_plaintext: bool,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<SecretString>,
    /// The address mails come from; required for `smtp` and `log`.
    pub mail_from: Option<String>,
    /// The name mails come from; default: each tenant's display name.
    pub mail_from_name: Option<String>,
    /// Longest one mail may take to deliver, connecting included.
    pub smtp_timeout_seconds: u64,
    /// `none` (phone numbers cannot be verified), `http`, or `log` (development only).
    pub sms_transport: String,
    /// The SMS provider's endpoint; https, or http to a loopback host.
    pub sms_http_url: Option<String>,
    pub sms_http_allow_plaintext: bool,
    /// `none`, `bearer` (`sms_http_token`), `basic` (`sms_http_username` and
    /// `sms_http_password`) or `header` (`sms_http_header_name` and `sms_http_header_value`).
    pub sms_http_auth: String,
    pub sms_http_token: Option<SecretString>,
    pub sms_http_username: Option<String>,
    pub sms_http_password: Option<SecretString>,
    pub sms_http_header_name: Option<String>,
    pub sms_http_header_value: Option<SecretString>,
    /// `json` (default) or `form`.
    pub sms_http_content_type: String,
    /// The request body, with `{to}`, `{text}` and optionally `{from}`.
    pub sms_http_body_template: Option<String>,
    /// The sender name or number, for `{from}`.
    pub sms_from: Option<String>,
    /// Longest one text message may take to hand to the provider.
    pub sms_timeout_seconds: u64,
    /// Country calling codes text messages may go to, comma-separated (`41,49,43`); empty:
    /// every country.
    pub sms_allowed_country_codes: String,
    /// MaxMind-format GeoIP databases (city or country, and ASN), comma-separated; empty:
    /// the risk engine's country, network and travel signals are off.
    pub geoip_databases: String,
    /// A file of IP addresses and CIDR ranges whose sign-ins the risk engine scores as
    /// deny-listed, one per line (`#` comments).
    pub ip_deny_list: Option<PathBuf>,
    /// Tor's exit list (the bulk list or `ExitAddress` lines), for the `tor_exit` signal.
    pub tor_exit_list: Option<PathBuf>,
    /// Proxies (addresses or CIDR ranges, comma-separated) whose `X-Forwarded-For` names
    /// the client; empty: the TCP peer is the client.
    pub trusted_proxies: String,
    /// Where captcha tokens are checked instead of each provider's own `siteverify`
    /// endpoint (an egress proxy; a fake provider in tests); empty: the providers'.
    pub captcha_siteverify_url: String,
    /// Form posts per minute and client address: sign-in, sign-up, codes; and requests to
    /// the token endpoints.
    pub rate_limit_sign_in_per_minute: u32,
    pub rate_limit_sign_up_per_minute: u32,
    pub rate_limit_codes_per_minute: u32,
    pub rate_limit_token_per_minute: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            public_url: None,
            data_dir: PathBuf::from("./tessera-data"),
            database_url: None,
            database_max_connections: 8,
            admin_token: None,
            body_limit_bytes: 1024 * 1024,
            request_timeout_seconds: 30,
            header_read_timeout_seconds: 10,
            log_format: "text".to_owned(),
            log_level: "info".to_owned(),
            key_encryption_key: None,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            password_workers: 0,
            password_queue: 64,
            access_token_algorithm: "ES256".to_owned(),
            outbound_allow_private: false,
            key_rotation_days: 90,
            mail_transport: "none".to_owned(),
            smtp_host: None,
            smtp_port: None,
            smtp_tls: "starttls".to_owned(),
            smtp_allow_plaintext: false,
            smtp_username: None,
            smtp_password: None,
            mail_from: None,
            mail_from_name: None,
            smtp_timeout_seconds: 10,
            sms_transport: "none".to_owned(),
            sms_http_url: None,
            sms_http_allow_plaintext: false,
            sms_http_auth: "none".to_owned(),
            sms_http_token: None,
            sms_http_username: None,
            sms_http_password: None,
            sms_http_header_name: None,
            sms_http_header_value: None,
            sms_http_content_type: "json".to_owned(),
            sms_http_body_template: None,
            sms_from: None,
            sms_timeout_seconds: 10,
            sms_allowed_country_codes: String::new(),
            geoip_databases: String::new(),
            ip_deny_list: None,
            tor_exit_list: None,
            trusted_proxies: String::new(),
            captcha_siteverify_url: String::new(),
            rate_limit_sign_in_per_minute: 60,
            rate_limit_sign_up_per_minute: 10,
            rate_limit_codes_per_minute: 30,
            rate_limit_token_per_minute: 600,
        }
    }
}

impl Config {
    /// The rate limits and the trusted proxies, each checked.
    fn rate_limits(&self) -> Result<tessera_web::rate_limit::RateLimitSettings, ConfigError> {
        let per_minute = |name: &'static str, value: u32| {
            if (1..=1_000_000).contains(&value) {
                Ok(value)
            } else {
                Err(invalid(name, "must be between 1 and 1000000"))
            }
        };
        let proxies = self.trusted_proxies.replace(',', "\n");
        let trusted_proxies = tessera_core::risk::IpList::parse(&proxies).map_err(|e| {
            invalid(
                "trusted_proxies",
                format!("{e} (addresses or CIDR ranges, comma-separated)"),
            )
        })?;
        Ok(tessera_web::rate_limit::RateLimitSettings {
            trusted_proxies,
            sign_in_per_minute: per_minute(
                "rate_limit_sign_in_per_minute",
                self.rate_limit_sign_in_per_minute,
            )?,
            sign_up_per_minute: per_minute(
                "rate_limit_sign_up_per_minute",
                self.rate_limit_sign_up_per_minute,
            )?,
            codes_per_minute: per_minute(
                "rate_limit_codes_per_minute",
                self.rate_limit_codes_per_minute,
            )?,
            token_per_minute: per_minute(
                "rate_limit_token_per_minute",
                self.rate_limit_token_per_minute,
            )?,
        })
    }
}

/// Values given as command-line flags; only those present override.
#[derive(Debug, Default, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

/// A setting that is missing, malformed or out of range.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(String),
    #[error("configuration setting `{setting}`: {reason}")]
    Invalid {
        setting: &'static str,
        reason: String,
    },
}

fn invalid(setting: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting,
        reason: reason.into(),
    }
}

/// The `TESSERA_*` variables among `environment`, keyed by setting name; values are typed
/// the way figment's own `Env` provider types them.
fn environment_layer(environment: &[(String, String)]) -> Dict {
    environment
        .iter()
        .filter_map(|(name, value)| {
            let key = name.strip_prefix("TESSERA_")?.to_ascii_lowercase();
            ENVIRONMENT_KEYS.contains(&key.as_str()).then(|| {
                let typed: Value = value.parse().unwrap_or_else(|never| match never {});
                (key, typed)
            })
        })
        .collect()
}

/// The configuration after validation, with every default resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// The public base URL without a trailing slash: the OpenID issuer.
    pub public_url: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub database_max_connections: u32,
    pub admin_token: Option<SecretString>,
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    pub header_read_timeout: Duration,
    pub log_json: bool,
    pub log_level: String,
    pub key_encryption_key: Option<SecretString>,
    pub argon2: Argon2Params,
    pub password_workers: usize,
    pub password_queue: usize,
    pub access_token_algorithm: SigningAlgorithm,
    pub outbound_allow_private: bool,
    pub key_rotation_days: u32,
    /// How notices are sent.
    pub mail: MailSettings,
    /// How text messages are sent.
    pub sms: SmsSettings,
    /// The `+<code>` prefixes numbers must start with to be sent a text; empty: any.
    pub sms_allowed_prefixes: Vec<String>,
    /// GeoIP database files (none: GeoIP off).
    pub geoip_databases: Vec<PathBuf>,
    pub ip_deny_list: Option<PathBuf>,
    pub tor_exit_list: Option<PathBuf>,
    pub captcha_siteverify_url: Option<url::Url>,
    pub rate_limits: tessera_web::rate_limit::RateLimitSettings,
}

impl Config {
    /// Loads the layers. `file` is `--config`; without it `./tessera.toml` is read if present.
    pub fn load(
        file: Option<&Path>,
        environment: &[(String, String)],
        flags: &FlagOverrides,
    ) -> Result<Self, ConfigError> {
        let figment = match file {
            Some(path) if !path.exists() => {
                return Err(ConfigError::Load(format!(
                    "the file {} does not exist",
                    path.display()
                )));
            }
            Some(path) => Figment::new().merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_FILE).exists() => {
                Figment::new().merge(Toml::file_exact(DEFAULT_FILE))
            }
            None => Figment::new(),
        };
        figment
            .merge(Serialized::globals(environment_layer(environment)))
            .merge(Serialized::globals(flags))
            .extract()
            .map_err(|e| ConfigError::Load(e.to_string()))
    }

    /// Checks every setting and fills in the derived defaults.
    pub fn validate(self) -> Result<Settings, ConfigError> {
        let listen: SocketAddr = self.listen.parse().map_err(|_| {
            invalid(
                "listen",
                format!(
                    "'{}' is not an address:port such as 127.0.0.1:8080",
                    self.listen
                ),
            )
        })?;
        let public_url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{listen}"));
        let public_url = Url::parse(&public_url)
            .map_err(|e| invalid("public_url", format!("'{public_url}' is not a URL: {e}")))?;
        if !matches!(public_url.scheme(), "http" | "https")
            || public_url.query().is_some()
            || public_url.fragment().is_some()
            || public_url.host().is_none()
        {
            return Err(invalid(
                "public_url",
                "must be an http(s) URL without query or fragment",
            ));
        }
        // Before any field moves out of `self`.
        let mail = mail::validate(&self)?;
        let sms = sms::validate(&self)?;
        let sms_allowed_prefixes = sms::allowed_prefixes(&self.sms_allowed_country_codes)?;
        let rate_limits = self.rate_limits()?;
        let captcha_siteverify_url = match self.captcha_siteverify_url.trim() {
            "" => None,
            text => {
                let url = Url::parse(text).map_err(|e| {
                    invalid(
                        "captcha_siteverify_url",
                        format!("'{text}' is not a URL: {e}"),
                    )
                })?;
                if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                    return Err(invalid("captcha_siteverify_url", "must be an http(s) URL"));
                }
                Some(url)
            }
        };
        let database_url = match self.database_url {
            Some(url)
                if url.starts_with("sqlite:")
                    || url.starts_with("postgres://")
                    || url.starts_with("postgresql://") =>
            {
                url
            }
            Some(_) => {
                return Err(invalid(
                    "database_url",
                    "must start with sqlite:// or postgres://",
                ));
            }
            None => format!("sqlite://{}", self.data_dir.join("tessera.db").display()),
        };
        if !(1..=1000).contains(&self.database_max_connections) {
            return Err(invalid(
                "database_max_connections",
                "must be between 1 and 1000",
            ));
        }
        if let Some(token) = &self.admin_token
            && secrecy::ExposeSecret::expose_secret(token).len() < 32
        {
            return Err(invalid(
                "admin_token",
                "must be at least 32 characters (e.g. `openssl rand -base64 32`)",
            ));
        }
        if !(1024..=64 * 1024 * 1024).contains(&self.body_limit_bytes) {
            return Err(invalid(
                "body_limit_bytes",
                "must be between 1 KiB and 64 MiB",
            ));
        }
        if !(1..=600).contains(&self.request_timeout_seconds) {
            return Err(invalid(
                "request_timeout_seconds",
                "must be between 1 and 600",
            ));
        }
        tracing_subscriber::EnvFilter::try_new(&self.log_level).map_err(|e| {
            invalid(
                "log_level",
                format!("'{}' is not a tracing filter: {e}", self.log_level),
            )
        })?;
        if !(1..=300).contains(&self.header_read_timeout_seconds) {
            return Err(invalid(
                "header_read_timeout_seconds",
                "must be between 1 and 300",
            ));
        }
        let log_json = match self.log_format.as_str() {
            "text" => false,
            "json" => true,
            other => {
                return Err(invalid(
                    "log_format",
                    format!("'{other}' is neither text nor json"),
                ));
            }
        };
        let argon2 = Argon2Params {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            parallelism: self.argon2_parallelism,
        };
        argon2.validate().map_err(|e| {
            let setting = match &e {
                tessera_core::password::InvalidParams::OutOfRange { field, .. } => match *field {
                    "iterations" => "argon2_iterations",
                    "parallelism" => "argon2_parallelism",
                    _ => "argon2_memory_kib",
                },
                _ => "argon2_memory_kib",
            };
            invalid(setting, e.to_string())
        })?;
        if let Some(key) = &self.key_encryption_key {
            SealingKey::from_base64(secrecy::ExposeSecret::expose_secret(key)).map_err(|_| {
                invalid(
                    "key_encryption_key",
                    "must be base64 of 32 random bytes (e.g. `openssl rand -base64 32`)",
                )
            })?;
        }
        if self.password_workers > 256 {
            return Err(invalid(
                "password_workers",
                "must be at most 256 (0: one per core)",
            ));
        }
        if !(1..=100_000).contains(&self.password_queue) {
            return Err(invalid("password_queue", "must be between 1 and 100000"));
        }
        if self.key_rotation_days > 3650 {
            return Err(invalid(
                "key_rotation_days",
                "must be at most 3650 (0: never)",
            ));
        }
        let access_token_algorithm = SigningAlgorithm::parse(&self.access_token_algorithm)
            .ok_or_else(|| invalid("access_token_algorithm", "must be ES256, EdDSA or RS256"))?;
        Ok(Settings {
            listen,
            public_url: public_url.as_str().trim_end_matches('/').to_owned(),
            data_dir: self.data_dir,
            database_url,
            database_max_connections: self.database_max_connections,
            admin_token: self.admin_token,
            body_limit_bytes: self.body_limit_bytes,
            request_timeout: Duration::from_secs(self.request_timeout_seconds),
            header_read_timeout: Duration::from_secs(self.header_read_timeout_seconds),
            log_json,
            log_level: self.log_level,
            key_encryption_key: self.key_encryption_key,
            argon2,
            password_workers: self.password_workers,
            password_queue: self.password_queue,
            access_token_algorithm,
            outbound_allow_private: self.outbound_allow_private,
            key_rotation_days: self.key_rotation_days,
            mail,
            sms,
            sms_allowed_prefixes,
            geoip_databases: self
                .geoip_databases
                .split(',')
                .map(str::trim)
                .filter(|path| !path.is_empty())
                .map(PathBuf::from)
                .collect(),
            ip_deny_list: self.ip_deny_list,
            tor_exit_list: self.tor_exit_list,
            captcha_siteverify_url,
            rate_limits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(
        toml: Option<&str>,
        env: &[(&str, &str)],
        flags: FlagOverrides,
    ) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().map_err(|e| ConfigError::Load(e.to_string()))?;
        let path = dir.path().join("t.toml");
        if let Some(text) = toml {
            std::fs::write(&path, text).map_err(|e| ConfigError::Load(e.to_string()))?;
        }
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::load(toml.map(|_| path.as_path()), &env, &flags)?.validate()
    }

    #[test]
    fn defaults_need_no_configuration() {
        let settings =
            load(None, &[], FlagOverrides::default()).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(settings.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.public_url, "http://127.0.0.1:8080");
        assert_eq!(settings.database_url, "sqlite://./tessera-data/tessera.db");
    }

    #[test]
    fn layers_override_in_order() {
        let toml = "listen = \"127.0.0.1:9000\"\npublic_url = \"https://id.example.com\"\ndatabase_max_connections = 3\n";
        let settings = load(
            Some(toml),
            &[
                ("TESSERA_LISTEN", "127.0.0.1:9001"),
                ("TESSERA_TEST_DATABASE_URL", "ignored"),
            ],
            FlagOverrides::default(),
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(settings.listen.port(), 9001, "environment beats the file");
        assert_eq!(settings.database_max_connections, 3);
        let flags = FlagOverrides {
            listen: Some("127.0.0.1:9002".into()),
            ..FlagOverrides::default()
        };
        let settings = load(Some(toml), &[("TESSERA_LISTEN", "127.0.0.1:9001")], flags)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(settings.listen.port(), 9002, "flags beat the environment");
    }

    #[test]
    fn errors_name_the_setting() {
        type Case<'a> = (Option<&'a str>, &'a [(&'a str, &'a str)]);
        let cases: [Case<'_>; 6] = [
            (None, &[("TESSERA_LISTEN", "nowhere")]),
            (None, &[("TESSERA_PUBLIC_URL", "ftp://x")]),
            (None, &[("TESSERA_DATABASE_URL", "mysql://x")]),
            (None, &[("TESSERA_ADMIN_TOKEN", "short")]),
            (Some("databse_url = \"x\""), &[]),
            (Some("database_max_connections = \"many\""), &[]),
        ];
        let messages: Vec<String> = cases
            .iter()
            .map(|(toml, env)| {
                load(*toml, env, FlagOverrides::default())
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            })
            .collect();
        assert!(messages[0].contains("`listen`"), "{}", messages[0]);
        assert!(messages[1].contains("`public_url`"), "{}", messages[1]);
        assert!(messages[2].contains("`database_url`"), "{}", messages[2]);
        assert!(messages[3].contains("`admin_token`"), "{}", messages[3]);
        assert!(messages[4].contains("databse_url"), "{}", messages[4]);
        assert!(
            messages[5].contains("database_max_connections"),
            "{}",
            messages[5]
        );
    }

    #[test]
    fn rate_limits_and_trusted_proxies_are_checked() {
        let settings = load(
            None,
            &[
                ("TESSERA_TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
                ("TESSERA_RATE_LIMIT_TOKEN_PER_MINUTE", "1200"),
            ],
            FlagOverrides::default(),
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(settings.rate_limits.trusted_proxies.len(), 2);
        assert_eq!(settings.rate_limits.token_per_minute, 1200);
        assert_eq!(settings.rate_limits.sign_in_per_minute, 60);
        let bad = [
            (
                "TESSERA_TRUSTED_PROXIES",
                "10.0.0.0/33",
                "`trusted_proxies`",
            ),
            (
                "TESSERA_RATE_LIMIT_SIGN_IN_PER_MINUTE",
                "0",
                "`rate_limit_sign_in_per_minute`",
            ),
        ];
        for (name, value, setting) in bad {
            let message = load(None, &[(name, value)], FlagOverrides::default())
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(message.contains(setting), "{message}");
        }
    }
}
