//! The domain's errors. Each variant has a stable code that every surface (admin API,
//! SCIM, OAuth, HTML pages) maps in one place to its own error format.

use crate::store::StoreError;
use serde::Serialize;
use std::fmt;

/// One invalid field of an input, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &str, reason: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    /// The same error with its field placed under `parent` (`country` → `attributes.country`).
    pub fn within(self, parent: &str) -> Self {
        Self {
            field: format!("{parent}.{}", self.field),
            reason: self.reason,
        }
    }
}

/// Stable, documented error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Validation,
    NotFound,
    Duplicate,
    EditConflict,
    Unauthenticated,
    Forbidden,
    Unavailable,
    Overloaded,
    InvalidCredentials,
    TooManyRequests,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Validation => "validation",
            Self::NotFound => "not_found",
            Self::Duplicate => "duplicate",
            Self::EditConflict => "edit_conflict",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::Unavailable => "unavailable",
            Self::Overloaded => "overloaded",
            Self::InvalidCredentials => "invalid_credentials",
            Self::TooManyRequests => "too_many_requests",
            Self::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong in a service call.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The input broke one or more rules; nothing was written.
    #[error("the input is not valid")]
    Validation(Vec<FieldError>),
    /// The object does not exist in this tenant (or the caller may not know it exists).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A value that must be unique in the tenant is already taken.
    #[error("{field} is already in use")]
    Duplicate { field: &'static str },
    /// The object changed concurrently too often to apply the change; retrying may succeed.
    #[error("the object was changed concurrently; retry")]
    EditConflict,
    /// No valid credentials were presented.
    #[error("authentication required")]
    Unauthenticated,
    /// The credentials lack the scope this needs.
    #[error("the token lacks the scope '{0}'")]
    Forbidden(&'static str),
    /// The database cannot be reached or is full; retrying later may succeed.
    #[error("the service is temporarily unavailable")]
    Unavailable(#[source] StoreError),
    /// Too many password checks are queued; the caller should answer at once and retry later.
    #[error("too many sign-ins at once; retry shortly")]
    Overloaded,
    /// The identifier or the secret is wrong; which one is never said.
    #[error("the credentials are not valid")]
    InvalidCredentials,
    /// The same thing was asked too often (codes sent to one address, attempts at a code);
    /// the caller may try again after the given number of seconds.
    #[error("too many requests; retry in {retry_after_seconds} s")]
    TooManyRequests { retry_after_seconds: u64 },
    /// A notice (an email) could not be sent; retrying later may succeed.
    #[error("the message could not be sent")]
    NotDelivered(#[source] crate::notify::NotifyError),
    /// A one-time code was refused (wrong, expired, used, or too many wrong tries); the
    /// refusal says which.
    #[error("{0}")]
    CodeRefused(CodeRefusal),
    /// Too many failed attempts locked the factor: until the given number of seconds have
    /// passed, or (`None`) until it is unlocked.
    #[error("too many failed attempts; the factor is locked")]
    Locked { retry_after_seconds: Option<u64> },
    /// The attempt looks automated: it needs a solved proof of work (or captcha) first.
    #[error("a proof of work or captcha is required")]
    BotCheckRequired,
    /// A text message (an SMS code) could not be sent; retrying later may succeed.
    #[error("the text message could not be sent")]
    SmsNotDelivered(#[source] crate::sms::SmsError),
    /// The identity verification provider could not be reached or gave an unusable
    /// answer; the message names its host only. Retrying later may succeed.
    #[error("the identity verification provider failed: {0}")]
    IdentityProviderFailed(String),
    /// A fault of ours; the details go to the log, never to the caller.
    #[error("internal error")]
    Internal(#[source] StoreError),
}

impl CoreError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Validation(_) => ErrorCode::Validation,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Duplicate { .. } => ErrorCode::Duplicate,
            Self::EditConflict => ErrorCode::EditConflict,
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Overloaded => ErrorCode::Overloaded,
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::TooManyRequests { .. } => ErrorCode::TooManyRequests,
            Self::Locked { .. } => ErrorCode::TooManyRequests,
            Self::BotCheckRequired => ErrorCode::TooManyRequests,
            Self::NotDelivered(_) => ErrorCode::Unavailable,
            Self::CodeRefused(_) => ErrorCode::InvalidCredentials,
            Self::SmsNotDelivered(_) => ErrorCode::Unavailable,
            Self::IdentityProviderFailed(_) => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, reason)])
    }
}

/// Why a one-time code was refused. A wrong code counts against its challenge, which is
/// spent after a few (A06); the others need a new code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeRefusal {
    /// The code is not the one sent; `attempts_left` more may be tried.
    #[error("the code is not correct ({attempts_left} tries left)")]
    Wrong { attempts_left: u32 },
    /// The code's lifetime is over.
    #[error("the code has expired; ask for a new one")]
    Expired,
    /// The code was used already, or a newer one replaced it.
    #[error("the code was already used or replaced by a newer one")]
    Used,
    /// Too many wrong codes were tried: the challenge is spent.
    #[error("too many wrong codes; ask for a new one")]
    TooManyAttempts,
}

impl From<StoreError> for CoreError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Duplicate { field } => Self::Duplicate { field },
            StoreError::VersionConflict => Self::EditConflict,
            StoreError::Rejected(reason) => {
                Self::invalid("body", format!("a value cannot be stored: {reason}"))
            }
            StoreError::Unavailable(_) => Self::Unavailable(error),
            StoreError::Database(_) | StoreError::Corrupt(_) => Self::Internal(error),
        }
    }
}
