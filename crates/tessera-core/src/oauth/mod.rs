//! The OpenID Connect provider's domain: clients, redirect URIs, sessions, grants and
//! tokens, signing keys. Protocol parsing and JOSE live in `tessera-oidc`.

pub mod client;
pub mod grant;
pub mod redirect_uri;
pub mod session;
pub mod signing_key;
pub mod store;
