//! OAuth 2.0 and OpenID Connect protocol logic, with no web framework: JOSE keys and
//! tokens, PKCE, redirect URI matching, authorization and token requests, discovery and the
//! protocol's error codes. `tessera-web` turns HTTP into these types and back; the services
//! of `tessera-core` hold the state.

pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod jose;
pub mod keys;
pub mod pkce;
pub mod provider;
