//! The OpenID Connect provider's part of the PostgreSQL store (`OAuthStore`). Several
//! instances may share the database: single-use secrets (codes, refresh tokens) are spent
//! by a conditional `UPDATE … RETURNING`, whose row lock makes concurrent callers wait and
//! then find the secret already spent.
//!
//! One file per part of the port: `clients` (`ClientStore`), `sessions` (`SessionStore`)
//! and `grants` (`GrantStore`).

mod clients;
mod grants;
mod sessions;
