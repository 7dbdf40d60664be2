//! The authorization request (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1, RFC 7636):
//! parsed into a typed request, or into one of two kinds of error. Errors about the client
//! or its redirect URI are shown to the user and never redirected (A10, A11); every other
//! error goes back to the client's registered redirect URI with `state` and `iss`.

use crate::error::{ErrorCode, OAuthError};
use crate::pkce;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use tessera_core::oauth::client::{Client, GrantType, is_scope_token};

const MAX_STATE: usize = 2048;
const MAX_NONCE: usize = 512;
const MAX_HINT: usize = 320;
const MAX_CLAIMS: usize = 4096;

/// How the authorization response reaches the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// The `prompt` values (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
    /// `prompt=create` (Initiating User Registration): show sign-up.
    pub create: bool,
}

/// A valid authorization request of a known client with a registered redirect URI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub scope: BTreeSet<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<u32>,
    pub login_hint: Option<String>,
    pub ui_locales: Vec<String>,
    pub acr_values: Vec<String>,
    pub claims: Option<serde_json::Value>,
}

impl AuthorizationRequest {
    pub fn is_openid(&self) -> bool {
        self.scope.contains("openid")
    }
}

/// Where an error of an authorization request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: show an error page (no redirect).
    Page(String),
    /// Back to the client with `error`, `state` and `iss`.
    Redirect {
        redirect_uri: String,
        response_mode: ResponseMode,
        state: Option<String>,
        error: OAuthError,
    },
}

/// The parameters of a request as name → value, refusing repeated names (RFC 6749 §3.1).
pub fn single_valued(pairs: &[(String, String)]) -> Result<HashMap<&str, &str>, String> {
    let mut map = HashMap::with_capacity(pairs.len());
    for (name, value) in pairs {
        if map.insert(name.as_str(), value.as_str()).is_some() {
            return Err(format!("the parameter '{name}' is repeated"));
        }
    }
    Ok(map)
}

/// Checks the client and redirect URI first, then everything else.
pub fn parse(
    params: &HashMap<&str, &str>,
    client: Option<&Client>,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let Some(client) = client else {
        return Err(AuthorizeError::Page(
            "The application that sent you here is not registered.".into(),
        ));
    };
    let Some(requested_uri) = params.get("redirect_uri").filter(|uri| !uri.is_empty()) else {
        return Err(AuthorizeError::Page(
            "The application did not say where to send you back (redirect_uri is missing).".into(),
        ));
    };
    if client.metadata.redirect_uri(requested_uri).is_none() {
        return Err(AuthorizeError::Page(
            "The application asked to send you back to an address it has not registered.".into(),
        ));
    }
    let state = params.get("state").map(|s| (*s).to_owned());
    let response_mode = match params.get("response_mode").copied() {
        None | Some("query") => ResponseMode::Query,
        Some("form_post") => ResponseMode::FormPost,
        Some(_) => ResponseMode::Query,
    };
    let fail = |code: ErrorCode, description: &str| AuthorizeError::Redirect {
        redirect_uri: (*requested_uri).to_owned(),
        response_mode,
        state: state.clone(),
        error: OAuthError::new(code, description),
    };
    if state.as_ref().is_some_and(|s| s.len() > MAX_STATE) {
        return Err(fail(ErrorCode::InvalidRequest, "state is too long"));
    }
    if let Some(mode) = params.get("response_mode")
        && !matches!(*mode, "query" | "form_post")
    {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "response_mode must be query or form_post",
        ));
    }
    if params.contains_key("request") {
        return Err(fail(
            ErrorCode::RequestNotSupported,
            "request objects are not supported; use pushed authorization requests",
        ));
    }
    match params.get("response_type").copied() {
        Some("code") => {}
        None => return Err(fail(ErrorCode::InvalidRequest, "response_type is missing")),
        Some(_) => {
            return Err(fail(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
    }
    if !client.metadata.allows_grant(GrantType::AuthorizationCode) {
        return Err(fail(
            ErrorCode::UnauthorizedClient,
            "the client may not use the authorization code grant",
        ));
    }
    let scope = parse_scope(params.get("scope").copied().unwrap_or(""))
        .ok_or_else(|| fail(ErrorCode::InvalidScope, "scope is malformed"))?;
    if let Some(unknown) = scope.iter().find(|s| !client.metadata.scope.contains(*s)) {
        return Err(fail(
            ErrorCode::InvalidScope,
            &format!("the client may not ask for the scope '{unknown}'"),
        ));
    }
    let code_challenge = match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (Some(challenge), Some(&"S256")) if pkce::is_valid_challenge(challenge) => {
            Some((*challenge).to_owned())
        }
        (Some(_), Some(&"S256")) => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "code_challenge is malformed",
            ));
        }
        (Some(_), _) => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "code_challenge_method must be S256",
            ));
        }
        (None, Some(_)) => {
            return Err(fail(ErrorCode::InvalidRequest, "code_challenge is missing"));
        }
        (None, None) => None,
    };
    if client.metadata.is_public() && code_challenge.is_none() {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "public clients must use PKCE with S256",
        ));
    }
    let nonce = params.get("nonce").map(|n| (*n).to_owned());
    if nonce.as_ref().is_some_and(|n| n.len() > MAX_NONCE) {
        return Err(fail(ErrorCode::InvalidRequest, "nonce is too long"));
    }
    let prompt = parse_prompt(params.get("prompt").copied().unwrap_or(""))
        .ok_or_else(|| fail(ErrorCode::InvalidRequest, "prompt is not valid"))?;
    let max_age = match params.get("max_age") {
        Some(text) => Some(text.parse::<u32>().map_err(|_| {
            fail(
                ErrorCode::InvalidRequest,
                "max_age must be a number of seconds",
            )
        })?),
        None => None,
    };
    let login_hint = params.get("login_hint").map(|h| (*h).to_owned());
    if login_hint.as_ref().is_some_and(|h| h.len() > MAX_HINT) {
        return Err(fail(ErrorCode::InvalidRequest, "login_hint is too long"));
    }
    let claims = match params.get("claims") {
        Some(text) if text.len() <= MAX_CLAIMS => {
            let value: serde_json::Value = serde_json::from_str(text)
                .map_err(|_| fail(ErrorCode::InvalidRequest, "claims must be a JSON object"))?;
            if !value.is_object() {
                return Err(fail(
                    ErrorCode::InvalidRequest,
                    "claims must be a JSON object",
                ));
            }
            Some(value)
        }
        Some(_) => return Err(fail(ErrorCode::InvalidRequest, "claims is too long")),
        None => None,
    };
    Ok(AuthorizationRequest {
        client_id: client.client_id(),
        redirect_uri: (*requested_uri).to_owned(),
        response_mode,
        scope,
        state,
        nonce,
        code_challenge,
        prompt,
        max_age,
        login_hint,
        ui_locales: words(params.get("ui_locales").copied(), 10),
        acr_values: words(params.get("acr_values").copied(), 10),
        claims,
    })
}

/// A space-separated scope list; `None` when a token is malformed or there are too many.
pub fn parse_scope(text: &str) -> Option<BTreeSet<String>> {
    let scope: BTreeSet<String> = text
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    (scope.len() <= 50 && scope.iter().all(|s| is_scope_token(s))).then_some(scope)
}

fn parse_prompt(text: &str) -> Option<Prompt> {
    let mut prompt = Prompt::default();
    for value in text.split(' ').filter(|s| !s.is_empty()) {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => prompt.select_account = true,
            "create" => prompt.create = true,
            _ => return None,
        }
    }
    // `none` with anything else is an error (OpenID Connect Core §3.1.2.1).
    let others = prompt.login || prompt.consent || prompt.select_account || prompt.create;
    (!(prompt.none && others)).then_some(prompt)
}

fn words(text: Option<&str>, max: usize) -> Vec<String> {
    text.unwrap_or("")
        .split(' ')
        .filter(|w| !w.is_empty() && w.len() <= 64)
        .take(max)
        .map(str::to_owned)
        .collect()
}
