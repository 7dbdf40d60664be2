//! The notification port: what Tessera tells a person by email (later also by SMS). The
//! domain says *what* to tell ([`Notice`]); the binary decides *how* — it renders the
//! tenant's templates in the person's language and hands the mail to SMTP — so the core
//! stays free of templates and transports.
//!
//! A notice carries secrets (one-time codes, links with tokens): implementations must never
//! log its content, only that a notice of some kind went to some tenant.

use crate::email::Email;
use crate::tenant::Tenant;
use secrecy::SecretString;
use std::time::Duration;

/// What to tell a person.
#[derive(Debug, Clone)]
pub enum Notice {
    /// Finish signing up: a 6-digit code to type, and a link that does the same.
    SignUpCode {
        code: SecretString,
        link: SecretString,
        valid_for: Duration,
    },
    /// Someone tried to sign up with an address that already has an account: sign in (or
    /// recover the password) instead. Sent in place of a code so that the sign-up page
    /// never tells whether an address is registered (A08).
    AlreadyRegistered { sign_in_link: String },
    /// An administrator invited the address: follow the link to choose a password.
    Invitation {
        link: SecretString,
        valid_for: Duration,
    },
    /// A one-time code that confirms a sign-in (the emailed second factor).
    SignInCode {
        code: SecretString,
        valid_for: Duration,
    },
    /// Failed attempts locked a way of signing in: for a while (`locked_for`), or until
    /// an administrator unlocks it or the password is reset (`None`).
    AccountLocked { locked_for: Option<Duration> },
    /// The account was signed in to from a browser it was never signed in from.
    NewDeviceSignIn {
        at: time::OffsetDateTime,
        ip: Option<String>,
        browser: Option<String>,
        /// ISO 3166 alpha-2, when GeoIP placed the address.
        country: Option<String>,
    },
    /// A second factor was added to the account, or recovery codes were made: if it was not
    /// the person, they must act.
    SecurityChange { change: SecurityChange },
}

/// What changed in how an account signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityChange {
    AuthenticatorAdded,
    AuthenticatorRemoved,
    RecoveryCodesRenewed,
}

impl Notice {
    /// A short name for logs and metrics (never the content).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SignUpCode { .. } => "sign_up_code",
            Self::AlreadyRegistered { .. } => "already_registered",
            Self::Invitation { .. } => "invitation",
            Self::AccountLocked { .. } => "account_locked",
            Self::NewDeviceSignIn { .. } => "new_device_sign_in",
            Self::SignInCode { .. } => "sign_in_code",
            Self::SecurityChange { .. } => "security_change",
        }
    }
}

/// Why a notice could not be delivered. Details are for the log; the person sees only that
/// sending failed and may retry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// No way of sending is configured (no SMTP server).
    #[error("sending email is not configured")]
    NotConfigured,
    /// The server refused or could not be reached; retrying later may succeed.
    #[error("the mail could not be sent: {0}")]
    Failed(String),
}

/// Delivers notices to people.
#[async_trait::async_trait]
pub trait Notifier: Send + Sync + std::fmt::Debug {
    /// Sends `notice` to `to`, in `language` (a BCP 47 tag Tessera's templates know, else
    /// the tenant's default), with the tenant's branding.
    async fn notify(
        &self,
        tenant: &Tenant,
        to: &Email,
        language: &str,
        notice: Notice,
    ) -> Result<(), NotifyError>;
}

/// The notifier of a server without a mail configuration: every notice fails as
/// [`NotifyError::NotConfigured`], so that features needing mail say so.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoNotifier;

#[async_trait::async_trait]
impl Notifier for NoNotifier {
    async fn notify(
        &self,
        _tenant: &Tenant,
        _to: &Email,
        _language: &str,
        _notice: Notice,
    ) -> Result<(), NotifyError> {
        Err(NotifyError::NotConfigured)
    }
}
