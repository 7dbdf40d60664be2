//! Clients (relying parties) of the OpenID Connect provider, with the metadata names of
//! RFC 7591 and the pure rules that keep a registration consistent.

use super::redirect_uri::RedirectUri;
use crate::error::{CoreError, FieldError};
use crate::ids::{ClientId, TenantId};
use crate::secret::SecretHash;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

pub const MAX_REDIRECT_URIS: usize = 20;
pub const MAX_SCOPES: usize = 50;
pub const MAX_CUSTOM_CLAIMS: usize = 50;

/// The grants a client may use. Implicit and password grants do not exist here (RFC 9700).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }
}

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    /// A public client (a browser or native app), which must use PKCE.
    None,
}

impl TokenEndpointAuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }

    pub fn uses_secret(self) -> bool {
        matches!(self, Self::ClientSecretBasic | Self::ClientSecretPost)
    }
}

/// Signature algorithms Tessera signs with. `none` and HMAC are deliberately absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SigningAlgorithm {
    #[serde(rename = "RS256")]
    Rs256,
    #[serde(rename = "ES256")]
    Es256,
    #[serde(rename = "EdDSA")]
    EdDsa,
}

impl SigningAlgorithm {
    pub const ALL: [SigningAlgorithm; 3] = [Self::Rs256, Self::Es256, Self::EdDsa];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.as_str() == text)
    }
}

/// Token lifetimes in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenLifetimes {
    pub access_token: u32,
    pub id_token: u32,
    /// Absolute lifetime of a refresh-token family: rotation never extends it.
    pub refresh_token: u32,
}

impl Default for TokenLifetimes {
    fn default() -> Self {
        Self {
            access_token: 300,
            id_token: 600,
            refresh_token: 30 * 24 * 3600,
        }
    }
}

/// What a client registered (RFC 7591 names where they exist).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientMetadata {
    pub client_name: String,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub grant_types: BTreeSet<GrantType>,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// The client's public keys for `private_key_jwt` (a JWK Set, checked by the protocol layer).
    pub jwks: Option<serde_json::Value>,
    /// Scopes the client may ask for.
    pub scope: BTreeSet<String>,
    /// Audiences a `client_credentials` token may be issued for.
    pub audiences: BTreeSet<String>,
    pub lifetimes: TokenLifetimes,
    pub id_token_signed_response_alg: SigningAlgorithm,
    /// A first-party app of the business: the consent screen is skipped.
    pub first_party: bool,
    pub backchannel_logout_uri: Option<RedirectUri>,
    /// Extra ID token and userinfo claims: claim name → custom attribute name.
    pub custom_claims: BTreeMap<String, String>,
    /// Attributes the client needs, asked by progressive profiling and released in its
    /// tokens and userinfo.
    #[serde(default)]
    pub needs: crate::profiling::AttributeNeeds,
    /// The identity verification level users must have before this client gets a code
    /// (a Tessera extension); released to it as `verified_claims`.
    #[serde(default)]
    pub required_verification: Option<crate::identity_verification::AssuranceLevel>,
    /// The weakest sign-in this client accepts (a Tessera extension): with
    /// `urn:tessera:loa:2` its users always pass a second factor.
    #[serde(default)]
    pub minimum_acr: Option<crate::mfa::policy::AuthLevel>,
    pub logo_uri: Option<RedirectUri>,
    pub client_uri: Option<RedirectUri>,
    pub policy_uri: Option<RedirectUri>,
    pub tos_uri: Option<RedirectUri>,
}

impl ClientMetadata {
    pub fn is_public(&self) -> bool {
        self.token_endpoint_auth_method == TokenEndpointAuthMethod::None
    }

    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// The registered redirect URI that `requested` names, if any.
    pub fn redirect_uri(&self, requested: &str) -> Option<&RedirectUri> {
        self.redirect_uris.iter().find(|uri| uri.matches(requested))
    }

    pub fn post_logout_redirect_uri(&self, requested: &str) -> Option<&RedirectUri> {
        self.post_logout_redirect_uris
            .iter()
            .find(|uri| uri.as_str() == requested)
    }

    /// The rules that tie the fields together; every broken rule is reported.
    pub fn validate(&self) -> Result<(), CoreError> {
        let mut errors = Vec::new();
        let name_chars = self.client_name.trim().chars().count();
        if !(1..=200).contains(&name_chars) || self.client_name.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "client_name",
                "1 to 200 characters, no control characters",
            ));
        }
        if self.grant_types.is_empty() {
            errors.push(FieldError::new("grant_types", "at least one grant type"));
        }
        let uses_code = self.allows_grant(GrantType::AuthorizationCode);
        if uses_code && self.redirect_uris.is_empty() {
            errors.push(FieldError::new(
                "redirect_uris",
                "at least one redirect URI for the authorization_code grant",
            ));
        }
        if self.redirect_uris.len() > MAX_REDIRECT_URIS
            || self.post_logout_redirect_uris.len() > MAX_REDIRECT_URIS
        {
            errors.push(FieldError::new(
                "redirect_uris",
                format!("at most {MAX_REDIRECT_URIS} URIs"),
            ));
        }
        if self.allows_grant(GrantType::RefreshToken) && !uses_code {
            errors.push(FieldError::new(
                "grant_types",
                "refresh_token needs authorization_code",
            ));
        }
        if self.allows_grant(GrantType::ClientCredentials) && self.is_public() {
            errors.push(FieldError::new(
                "grant_types",
                "client_credentials needs a confidential client",
            ));
        }
        let needs_jwks = self.token_endpoint_auth_method == TokenEndpointAuthMethod::PrivateKeyJwt;
        if needs_jwks != self.jwks.is_some() {
            errors.push(FieldError::new(
                "jwks",
                "required with private_key_jwt, and only then",
            ));
        }
        if self.scope.len() > MAX_SCOPES || !self.scope.iter().all(|s| is_scope_token(s)) {
            errors.push(FieldError::new(
                "scope",
                format!("at most {MAX_SCOPES} space-separated scope tokens"),
            ));
        }
        if self.audiences.len() > MAX_SCOPES
            || self
                .audiences
                .iter()
                .any(|a| a.is_empty() || a.len() > 200 || a.chars().any(char::is_control))
        {
            errors.push(FieldError::new(
                "audiences",
                "at most 50 values of 1 to 200 characters",
            ));
        }
        let lifetimes = self.lifetimes;
        if !(30..=86_400).contains(&lifetimes.access_token) {
            errors.push(FieldError::new(
                "access_token_lifetime",
                "30 to 86400 seconds",
            ));
        }
        if !(60..=86_400).contains(&lifetimes.id_token) {
            errors.push(FieldError::new("id_token_lifetime", "60 to 86400 seconds"));
        }
        if !(300..=31_536_000).contains(&lifetimes.refresh_token) {
            errors.push(FieldError::new(
                "refresh_token_lifetime",
                "300 seconds to 365 days",
            ));
        }
        if self.custom_claims.len() > MAX_CUSTOM_CLAIMS
            || self
                .custom_claims
                .iter()
                .any(|(claim, attribute)| !is_claim_name(claim) || attribute.is_empty())
        {
            errors.push(FieldError::new(
                "custom_claims",
                "claim names of letters, digits, '_', '-', ':' and '.', not a standard claim",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(CoreError::Validation(errors))
        }
    }
}

/// A scope token per RFC 6749 §3.3 (printable ASCII without space, `"` and `\`).
pub fn is_scope_token(text: &str) -> bool {
    (1..=100).contains(&text.len())
        && text
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// Claims a client may not redefine, because clients rely on what the standards say they mean.
const RESERVED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "sid",
    "at_hash",
    "c_hash",
    "scope",
    "client_id",
    "email",
    "email_verified",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "birthdate",
    "phone_number",
    "phone_number_verified",
    "address",
    "locale",
    "zoneinfo",
    "updated_at",
    "cnf",
    "typ",
];

/// A name a client may give a claim of its own: not one the standards define.
pub fn is_claim_name(text: &str) -> bool {
    (1..=100).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':' | b'.'))
        && !RESERVED_CLAIMS.contains(&text)
}

/// A registered client. Its secret is stored only as a digest.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub id: ClientId,
    pub tenant_id: TenantId,
    pub secret_hash: Option<SecretHash>,
    pub metadata: ClientMetadata,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

impl Client {
    /// The `client_id` of the protocol.
    pub fn client_id(&self) -> String {
        self.id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn web_app() -> ClientMetadata {
        ClientMetadata {
            client_name: "Shop".into(),
            redirect_uris: vec![RedirectUri::parse("https://shop.example.com/cb").unwrap()],
            post_logout_redirect_uris: vec![],
            grant_types: BTreeSet::from([GrantType::AuthorizationCode, GrantType::RefreshToken]),
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
            jwks: None,
            scope: ["openid", "profile", "email"].map(String::from).into(),
            audiences: BTreeSet::new(),
            lifetimes: TokenLifetimes::default(),
            id_token_signed_response_alg: SigningAlgorithm::Rs256,
            first_party: false,
            backchannel_logout_uri: None,
            custom_claims: BTreeMap::new(),
            needs: Default::default(),
            required_verification: None,
            minimum_acr: None,
            logo_uri: None,
            client_uri: None,
            policy_uri: None,
            tos_uri: None,
        }
    }

    fn fields(result: Result<(), CoreError>) -> Vec<String> {
        match result {
            Err(CoreError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected validation errors, got {other:?}"),
        }
    }

    #[test]
    fn a_web_app_is_valid() {
        web_app().validate().unwrap();
    }

    #[test]
    fn inconsistent_registrations_are_refused() {
        let mut public_machine = web_app();
        public_machine.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
        public_machine
            .grant_types
            .insert(GrantType::ClientCredentials);
        assert_eq!(fields(public_machine.validate()), ["grant_types"]);

        let mut no_redirect = web_app();
        no_redirect.redirect_uris.clear();
        assert_eq!(fields(no_redirect.validate()), ["redirect_uris"]);

        let mut jwt_without_keys = web_app();
        jwt_without_keys.token_endpoint_auth_method = TokenEndpointAuthMethod::PrivateKeyJwt;
        assert_eq!(fields(jwt_without_keys.validate()), ["jwks"]);

        let mut reserved = web_app();
        reserved
            .custom_claims
            .insert("sub".into(), "customer_no".into());
        reserved.scope.insert("bad scope".into());
        assert_eq!(fields(reserved.validate()), ["scope", "custom_claims"]);
    }
}
