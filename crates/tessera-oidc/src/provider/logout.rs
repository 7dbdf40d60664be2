//! RP-initiated logout 1.0. A logout request that proves where it comes from (a valid
//! `id_token_hint` of the current session) ends the session at once; any other asks the
//! user first (A19), and only registered post-logout URIs are ever redirected to (A12).

use super::{Issuer, Provider};
use crate::error::OAuthError;
use crate::jose::{self, Algorithm, Expectations};
use serde::Deserialize;
use tessera_core::ids::ClientId;
use tessera_core::oauth::client::Client;
use tessera_core::oauth::session::Session;
use time::Duration;

/// The parameters of a logout request.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LogoutRequest {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
    pub ui_locales: Option<String>,
}

/// What the logout endpoint does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutDecision {
    /// End the session now, then redirect (or show the signed-out page).
    LogOut { redirect: Option<String> },
    /// Ask the user; on confirmation end the session, then redirect.
    Confirm {
        redirect: Option<String>,
        client_name: Option<String>,
    },
}

#[derive(Debug, Deserialize)]
struct HintClaims {
    sub: String,
    #[serde(default)]
    sid: Option<String>,
    aud: Audience,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn single(&self) -> Option<&str> {
        match self {
            Self::One(aud) => Some(aud),
            Self::Many(list) if list.len() == 1 => list.first().map(String::as_str),
            Self::Many(_) => None,
        }
    }
}

impl Provider {
    /// Decides what a logout request does for the browser's session.
    pub async fn plan_logout(
        &self,
        issuer: &Issuer,
        request: &LogoutRequest,
        session: Option<&Session>,
    ) -> Result<LogoutDecision, OAuthError> {
        let hint = request
            .id_token_hint
            .as_deref()
            .and_then(|token| self.verify_hint(issuer, token));
        let client_id = match (&hint, &request.client_id) {
            (Some(hint), Some(asked)) if hint.aud.single() != Some(asked.as_str()) => None,
            (Some(hint), _) => hint.aud.single().map(str::to_owned),
            (None, asked) => asked.clone(),
        };
        let client = match client_id.as_deref().map(str::parse::<ClientId>) {
            Some(Ok(id)) => {
                self.core
                    .protocol_client(issuer.tenant_id, &id.to_string())
                    .await?
            }
            _ => None,
        };
        let redirect = redirect_for(client.as_ref(), request);
        let proven = match (&hint, session) {
            (Some(hint), Some(session)) => {
                hint.sub == session.user_id.to_string()
                    && hint.sid.as_deref() == Some(session.id.to_string().as_str())
            }
            // Nothing to end: no question needed, but only a hinted request may redirect.
            (_, None) => true,
            (None, Some(_)) => false,
        };
        if proven && (hint.is_some() || redirect.is_none()) {
            return Ok(LogoutDecision::LogOut { redirect });
        }
        Ok(LogoutDecision::Confirm {
            redirect,
            client_name: client.map(|c| c.metadata.client_name),
        })
    }

    fn verify_hint(&self, issuer: &Issuer, token: &str) -> Option<HintClaims> {
        let algorithms = [Algorithm::Rs256, Algorithm::Es256, Algorithm::EdDsa];
        let expect = Expectations {
            issuer: Some(&issuer.url),
            audience: None,
            typ: Some("JWT"),
            now: self.core.clock().now(),
            leeway: Duration::seconds(30),
            allow_expired: true,
            algorithms: &algorithms,
        };
        jose::verify::<HintClaims>(token, &self.keys.jwks(), &expect).ok()
    }

    /// Ends the session; returns the clients to notify by back-channel logout.
    pub async fn log_out(&self, session: &Session) -> Result<Vec<ClientId>, OAuthError> {
        Ok(self.core.end_session(session).await?)
    }
}

/// The registered post-logout URI with `state` appended, if the request names one.
fn redirect_for(client: Option<&Client>, request: &LogoutRequest) -> Option<String> {
    let asked = request.post_logout_redirect_uri.as_deref()?;
    let registered = client?.metadata.post_logout_redirect_uri(asked)?;
    let mut url = url::Url::parse(registered.as_str()).ok()?;
    if let Some(state) = &request.state {
        url.query_pairs_mut().append_pair("state", state);
    }
    Some(url.to_string())
}
