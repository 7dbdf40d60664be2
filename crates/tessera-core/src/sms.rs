//! The text-message port: what Tessera tells a person by SMS. As with mail
//! ([`crate::notify`]), the domain says *what* to tell ([`SmsNotice`]); the binary decides
//! *how* — it composes the text in the person's language and hands it to an SMS provider —
//! so the core stays free of texts and transports.
//!
//! A notice carries a one-time code: implementations must never log its text, only that a
//! notice of some kind went to some tenant. The one exception is the development sender
//! that writes messages to the log instead of sending them, which exists to show them.

use crate::phone::PhoneNumber;
use crate::tenant::Tenant;
use secrecy::SecretString;
use std::time::Duration;

/// What to tell a person by SMS.
#[derive(Debug, Clone)]
pub enum SmsNotice {
    /// Prove that you hold this number: a 6-digit code to type.
    PhoneCode {
        code: SecretString,
        valid_for: Duration,
    },
}

impl SmsNotice {
    /// A short name for logs and metrics (never the content).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::PhoneCode { .. } => "phone_code",
        }
    }
}

/// Why a text message could not be sent. Details are for the log and never hold the
/// message's text; the person sees only that sending failed and may retry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// No way of sending is configured (`sms_transport = none`).
    #[error("sending text messages is not configured")]
    NotConfigured,
    /// The provider refused or could not be reached; retrying later may succeed.
    #[error("the text message could not be sent: {0}")]
    Failed(String),
}

/// Delivers text messages to phones.
#[async_trait::async_trait]
pub trait SmsSender: Send + Sync + std::fmt::Debug {
    /// Sends `notice` to `to`, in `language` (a BCP 47 tag Tessera's texts know, else the
    /// tenant's default), on behalf of `tenant`.
    async fn send(
        &self,
        tenant: &Tenant,
        to: &PhoneNumber,
        language: &str,
        notice: SmsNotice,
    ) -> Result<(), SmsError>;

    /// Whether messages can leave at all: false only for [`NoSmsSender`]. Pages use it to
    /// decide whether a number can be proven by SMS.
    fn is_configured(&self) -> bool {
        true
    }

    /// Whether messages may go to `to` (the operator may allow only some countries).
    fn accepts(&self, _to: &PhoneNumber) -> bool {
        true
    }
}

/// The sender of a server without an SMS configuration: every message fails as
/// [`SmsError::NotConfigured`], so that features needing SMS say so.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoSmsSender;

#[async_trait::async_trait]
impl SmsSender for NoSmsSender {
    async fn send(
        &self,
        _tenant: &Tenant,
        _to: &PhoneNumber,
        _language: &str,
        _notice: SmsNotice,
    ) -> Result<(), SmsError> {
        Err(SmsError::NotConfigured)
    }

    fn is_configured(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_never_shows_in_debug() {
        let notice = SmsNotice::PhoneCode {
            code: SecretString::from("482913"),
            valid_for: Duration::from_secs(600),
        };
        assert_eq!(notice.kind(), "phone_code");
        assert!(!format!("{notice:?}").contains("482913"));
    }
}
