//! Back-Channel Logout 1.0: when a session ends, each client that received tokens in it and
//! registered a `backchannel_logout_uri` gets a signed logout token. Delivery is the
//! caller's (an outbound HTTP client with SSRF protection); here the tokens are made.

use super::{Issuer, Provider};
use serde_json::json;
use tessera_core::ids::ClientId;
use tessera_core::oauth::session::Session;
use time::Duration;

/// The event that marks a JWT as a logout token.
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// The `typ` of logout tokens (Back-Channel Logout §2.4).
pub const LOGOUT_TOKEN_TYPE: &str = "logout+jwt";

/// One logout token to POST to one client.
#[derive(Debug, Clone)]
pub struct LogoutNotice {
    pub client_id: ClientId,
    pub uri: String,
    pub logout_token: String,
}

impl Provider {
    /// Logout tokens for the clients of an ended session that asked for them.
    pub async fn backchannel_notices(
        &self,
        issuer: &Issuer,
        session: &Session,
        clients: &[ClientId],
    ) -> Vec<LogoutNotice> {
        let now = self.core.clock().now();
        let mut notices = Vec::new();
        for client_id in clients {
            let client = match self
                .core
                .protocol_client(issuer.tenant_id, &client_id.to_string())
                .await
            {
                Ok(Some(client)) => client,
                Ok(None) => continue,
                Err(error) => {
                    tracing::warn!(%error, "back-channel logout: client lookup failed");
                    continue;
                }
            };
            let Some(uri) = &client.metadata.backchannel_logout_uri else {
                continue;
            };
            let claims = json!({
                "iss": issuer.url,
                "aud": client.client_id(),
                "iat": now.unix_timestamp(),
                "exp": (now + Duration::minutes(2)).unix_timestamp(),
                "jti": tessera_core::ids::uuid_v7_at(now).to_string(),
                "sub": session.user_id.to_string(),
                "sid": session.id.to_string(),
                "events": { LOGOUT_EVENT: {} },
            });
            match self.sign(
                client.metadata.id_token_signed_response_alg,
                LOGOUT_TOKEN_TYPE,
                &claims,
            ) {
                Ok(logout_token) => notices.push(LogoutNotice {
                    client_id: client.id,
                    uri: uri.as_str().to_owned(),
                    logout_token,
                }),
                Err(error) => tracing::error!(%error, "back-channel logout: signing failed"),
            }
        }
        notices
    }
}
