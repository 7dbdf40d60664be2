//! Tessera's domain: typed values (parsed, never re-validated), entities, the ports the
//! outside world plugs into (`Store`, `Clock`) and the services that apply the business
//! rules. This crate knows nothing of HTTP or SQL; every decision that can be a pure
//! function of its inputs and `now` is one.

pub mod api_token;
pub mod attributes;
pub mod auth;
pub mod bot;
pub mod clock;
pub mod email;
pub mod error;
pub mod event;
pub mod group;
pub mod identity_verification;
pub mod ids;
pub mod invitation;
pub mod lockout;
pub mod mfa;
pub mod notify;
pub mod oauth;
pub mod outbound;
pub mod page;
pub mod password;
pub mod password_hash;
pub mod phone;
pub mod phone_verification;
pub mod profile;
pub mod profiling;
pub mod risk;
pub mod sealing;
pub mod secret;
pub mod service;
pub mod sign_in_history;
pub mod signup;
pub mod sms;
pub mod store;
pub mod tenant;
pub mod user;
pub mod user_filter;

pub use error::{CoreError, ErrorCode};
pub use service::Core;
