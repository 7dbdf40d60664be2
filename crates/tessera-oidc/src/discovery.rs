//! The provider's metadata (OpenID Connect Discovery 1.0, RFC 8414): complete and truthful,
//! so that client libraries configure themselves from it without special cases.

use crate::claims::claims_supported;
use serde_json::{Value, json};
use tessera_core::identity_verification::webhook::{EVIDENCE_TYPES, SUPPORTED_CLAIMS};
use tessera_core::oauth::client::SigningAlgorithm;

/// Paths of the endpoints under the issuer.
pub mod paths {
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    pub const AUTHORIZATION: &str = "/oauth2/authorize";
    pub const TOKEN: &str = "/oauth2/token";
    pub const USERINFO: &str = "/oauth2/userinfo";
    pub const JWKS: &str = "/jwks";
    pub const INTROSPECTION: &str = "/oauth2/introspect";
    pub const REVOCATION: &str = "/oauth2/revoke";
    pub const END_SESSION: &str = "/oauth2/logout";
    pub const PAR: &str = "/oauth2/par";
}

/// The discovery document of `issuer` (no trailing slash).
pub fn document(issuer: &str, access_token_algorithm: SigningAlgorithm) -> Value {
    let url = |path: &str| format!("{issuer}{path}");
    let algorithms: Vec<&str> = SigningAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
    json!({
        "issuer": issuer,
        "authorization_endpoint": url(paths::AUTHORIZATION),
        "token_endpoint": url(paths::TOKEN),
        "userinfo_endpoint": url(paths::USERINFO),
        "jwks_uri": url(paths::JWKS),
        "introspection_endpoint": url(paths::INTROSPECTION),
        "revocation_endpoint": url(paths::REVOCATION),
        "end_session_endpoint": url(paths::END_SESSION),
        "pushed_authorization_request_endpoint": url(paths::PAR),
        "require_pushed_authorization_requests": false,
        "scopes_supported": ["openid", "profile", "email", "phone", "address", "offline_access"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algorithms,
        "token_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": algorithms,
        "introspection_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "introspection_endpoint_auth_signing_alg_values_supported": algorithms,
        "revocation_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "revocation_endpoint_auth_signing_alg_values_supported": algorithms,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": claims_supported(),
        "acr_values_supported": ["urn:tessera:loa:1", "urn:tessera:loa:2"],
        // Accepted, but it never releases more than the granted scopes do.
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "prompt_values_supported": ["none", "login", "consent", "select_account", "create"],
        "ui_locales_supported": ["en", "de"],
        "claim_types_supported": ["normal"],
        "authorization_response_iss_parameter_supported": true,
        "frontchannel_logout_supported": false,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "access_token_signing_alg_values_supported": [access_token_algorithm.as_str()],
    })
}

/// Adds the OpenID Connect for Identity Assurance 1.0 metadata (§8) to `document`, for a
/// tenant whose identity verification provider follows `trust_framework`. Tenants without a
/// provider announce nothing, so that a client can tell.
pub fn add_identity_assurance(document: &mut Value, trust_framework: &str) {
    let Some(map) = document.as_object_mut() else {
        return;
    };
    map.insert("verified_claims_supported".into(), json!(true));
    // verified_claims are asked for with the claims parameter (OIDC4IDA §6).
    map.insert("claims_parameter_supported".into(), json!(true));
    map.insert(
        "trust_frameworks_supported".into(),
        json!([trust_framework]),
    );
    map.insert("evidence_supported".into(), json!(EVIDENCE_TYPES));
    map.insert(
        "claims_in_verified_claims_supported".into(),
        json!(SUPPORTED_CLAIMS),
    );
    if let Some(Value::Array(claims)) = map.get_mut("claims_supported") {
        claims.push(json!("verified_claims"));
    }
}
