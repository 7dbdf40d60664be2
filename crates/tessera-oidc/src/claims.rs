//! Which claims about a user a client receives: the standard claims of the scopes it was
//! granted (OpenID Connect Core §5.4), claims it asked for by name with the `claims`
//! parameter (§5.5), the custom claims its registration maps from custom attributes, and
//! the attributes it declared it needs (progressive profiling asks the user for them, and
//! the consent page names them), and `verified_claims` from an identity verification
//! (OpenID Connect for Identity Assurance 1.0).

use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use tessera_core::oauth::client::{ClientMetadata, is_claim_name};
use tessera_core::profiling::CUSTOM_PREFIX;
use tessera_core::user::User;

const PROFILE_CLAIMS: &[&str] = &[
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "birthdate",
    "locale",
    "zoneinfo",
    "updated_at",
];
const EMAIL_CLAIMS: &[&str] = &["email", "email_verified"];
const PHONE_CLAIMS: &[&str] = &["phone_number", "phone_number_verified"];
const ADDRESS_CLAIMS: &[&str] = &["address"];

/// Where the claims go; the `claims` parameter asks per destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    IdToken,
    Userinfo,
}

impl Destination {
    fn member(self) -> &'static str {
        match self {
            Self::IdToken => "id_token",
            Self::Userinfo => "userinfo",
        }
    }
}

/// Every standard claim the user has a value for.
fn standard_claims(user: &User) -> Map<String, Value> {
    let profile = &user.profile;
    let mut claims = Map::new();
    let mut put = |name: &str, value: Option<Value>| {
        if let Some(value) = value {
            claims.insert(name.to_owned(), value);
        }
    };
    put("name", profile.name.clone().map(Value::String));
    put("given_name", profile.given_name.clone().map(Value::String));
    put(
        "family_name",
        profile.family_name.clone().map(Value::String),
    );
    put(
        "middle_name",
        profile.middle_name.clone().map(Value::String),
    );
    put("nickname", profile.nickname.clone().map(Value::String));
    put("birthdate", profile.birthdate.clone().map(Value::String));
    put("locale", profile.locale.clone().map(Value::String));
    put("zoneinfo", profile.zoneinfo.clone().map(Value::String));
    put("updated_at", Some(json!(user.updated_at.unix_timestamp())));
    if let Some(email) = profile.primary_email() {
        put("email", Some(json!(email.value.as_str())));
        put("email_verified", Some(json!(email.verified)));
    }
    if let Some(phone) = profile.primary_phone() {
        put("phone_number", Some(json!(phone.value.as_str())));
        put("phone_number_verified", Some(json!(phone.verified)));
    }
    let address = profile
        .addresses
        .iter()
        .find(|a| a.primary)
        .or(profile.addresses.first());
    put("address", address.map(address_claim));
    claims
}

/// The `address` claim (OpenID Connect Core §5.1.1): only the members that have a value.
fn address_claim(address: &tessera_core::profile::Address) -> Value {
    let members = [
        ("formatted", &address.formatted),
        ("street_address", &address.street_address),
        ("locality", &address.locality),
        ("region", &address.region),
        ("postal_code", &address.postal_code),
        ("country", &address.country),
    ];
    Value::Object(
        members
            .into_iter()
            .filter_map(|(name, value)| Some((name.to_owned(), json!(value.as_ref()?))))
            .collect(),
    )
}

/// The claim names the attributes a client needs are released under.
fn released_by_needs(needs: &BTreeSet<String>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for attribute in needs.iter().map(String::as_str) {
        match attribute {
            "phone_number" => names.extend(PHONE_CLAIMS.iter().map(|n| (*n).to_owned())),
            custom if custom.starts_with(CUSTOM_PREFIX) => {}
            standard => {
                names.insert(standard.to_owned());
            }
        }
    }
    names
}

/// The names of claims a set of scopes releases.
fn released_by_scope(scope: &BTreeSet<String>) -> BTreeSet<&'static str> {
    let mut names = BTreeSet::new();
    for (name, claims) in [
        ("profile", PROFILE_CLAIMS),
        ("email", EMAIL_CLAIMS),
        ("phone", PHONE_CLAIMS),
        ("address", ADDRESS_CLAIMS),
    ] {
        if scope.contains(name) {
            names.extend(claims.iter().copied());
        }
    }
    names
}

/// The user claims for one destination. `requested` is the `claims` request parameter.
pub fn user_claims(
    user: &User,
    scope: &BTreeSet<String>,
    requested: Option<&Value>,
    client: &ClientMetadata,
    needs: &BTreeSet<String>,
    destination: Destination,
) -> Map<String, Value> {
    let all = standard_claims(user);
    let mut names: BTreeSet<String> = released_by_scope(scope)
        .into_iter()
        .map(str::to_owned)
        .collect();
    if let Some(Value::Object(by_destination)) = requested
        && let Some(Value::Object(asked)) = by_destination.get(destination.member())
    {
        // Named claims are released only within what the granted scopes allow, so that the
        // consent the user gave stays the upper bound.
        let allowed = released_by_scope(scope);
        names.extend(
            asked
                .keys()
                .filter(|name| allowed.contains(name.as_str()))
                .cloned(),
        );
    }
    // What the client declared it needs was asked of the user for this client (and named
    // on the consent page), so it is released whatever the scopes.
    names.extend(released_by_needs(needs));
    let mut claims: Map<String, Value> = all
        .into_iter()
        .filter(|(name, _)| names.contains(name))
        .collect();
    for attribute in needs {
        if let Some(custom) = attribute.strip_prefix(CUSTOM_PREFIX)
            && is_claim_name(custom)
            && let Some(value) = user.profile.attributes.get(custom)
        {
            claims.insert(custom.to_owned(), value.clone());
        }
    }
    if scope.contains("profile") {
        for (claim, attribute) in &client.custom_claims {
            if let Some(value) = user.profile.attributes.get(attribute) {
                claims.insert(claim.clone(), value.clone());
            }
        }
    }
    claims
}

/// The claim names each scope releases, for discovery and the consent page.
pub fn claims_supported() -> Vec<&'static str> {
    let mut names = vec![
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "acr",
        "amr",
        "azp",
        "sid",
    ];
    names.extend(PROFILE_CLAIMS);
    names.extend(EMAIL_CLAIMS);
    names.extend(PHONE_CLAIMS);
    names.extend(ADDRESS_CLAIMS);
    names
}

/// Whether tokens for `destination` may carry `verified_claims`, so that the caller reads the
/// user's verification only then: the client requires a verification level, or the `claims`
/// parameter asks for `verified_claims` in that destination.
pub fn wants_verified_claims(
    client: &ClientMetadata,
    requested: Option<&Value>,
    destination: Destination,
) -> bool {
    client.required_verification.is_some()
        || requested
            .and_then(|r| r.get(destination.member()))
            .and_then(|asked| asked.get("verified_claims"))
            .is_some()
}

/// The claim names a `verified_claims` request asks for (an object, or an array of them).
fn requested_verified_names(request: &Value) -> BTreeSet<&str> {
    let requests: Vec<&Value> = match request {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    requests
        .into_iter()
        .filter_map(|r| r.get("claims").and_then(Value::as_object))
        .flat_map(|claims| claims.keys().map(String::as_str))
        .collect()
}

/// The `verified_claims` one destination gets from the user's verification (`stored`, the
/// object Tessera kept: `{"verification", "claims"}`). A client that requires a verification
/// level gets all of it: the user verified for that client, and the page said so. Otherwise
/// the `claims` parameter must ask for it, and gets the verified claims it names that the
/// granted scopes release (the same bound as for claims named outside `verified_claims`).
pub fn verified_claims(
    stored: &Value,
    scope: &BTreeSet<String>,
    requested: Option<&Value>,
    client: &ClientMetadata,
    destination: Destination,
) -> Option<Value> {
    if client.required_verification.is_some() {
        return Some(stored.clone());
    }
    let request = requested?
        .get(destination.member())?
        .get("verified_claims")?;
    let allowed = released_by_scope(scope);
    let names = requested_verified_names(request);
    let claims: Map<String, Value> = stored
        .get("claims")?
        .as_object()?
        .iter()
        .filter(|(name, _)| names.contains(name.as_str()) && allowed.contains(name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    if claims.is_empty() {
        return None;
    }
    Some(json!({
        "verification": stored.get("verification").cloned().unwrap_or(Value::Null),
        "claims": claims,
    }))
}

#[cfg(test)]
mod verified_claims_tests {
    use super::*;
    use tessera_core::identity_verification::AssuranceLevel;
    use tessera_core::oauth::client::{
        GrantType, SigningAlgorithm, TokenEndpointAuthMethod, TokenLifetimes,
    };

    fn client(required: Option<AssuranceLevel>) -> ClientMetadata {
        ClientMetadata {
            client_name: "Bank".into(),
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            grant_types: BTreeSet::from([GrantType::AuthorizationCode]),
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
            jwks: None,
            scope: BTreeSet::new(),
            audiences: BTreeSet::new(),
            lifetimes: TokenLifetimes::default(),
            id_token_signed_response_alg: SigningAlgorithm::Rs256,
            first_party: true,
            backchannel_logout_uri: None,
            custom_claims: Default::default(),
            needs: Default::default(),
            required_verification: required,
            minimum_acr: None,
            logo_uri: None,
            client_uri: None,
            policy_uri: None,
            tos_uri: None,
        }
    }

    fn stored() -> Value {
        json!({
            "verification": {"trust_framework": "eidas", "evidence": [{"type": "document"}]},
            "claims": {"given_name": "Ada", "birthdate": "1815-12-10", "nationalities": ["GB"]}
        })
    }

    fn scope(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_client_that_requires_verification_gets_the_whole_object() {
        let bank = client(Some(AssuranceLevel::Substantial));
        assert!(wants_verified_claims(&bank, None, Destination::IdToken));
        let released = verified_claims(
            &stored(),
            &scope(&["openid"]),
            None,
            &bank,
            Destination::IdToken,
        );
        assert_eq!(released, Some(stored()));
    }

    #[test]
    fn the_claims_parameter_gets_what_it_names_within_the_scopes() {
        let shop = client(None);
        let request = json!({"userinfo": {"verified_claims": {
            "verification": {"trust_framework": null},
            "claims": {"given_name": null, "nationalities": null, "family_name": null}
        }}});
        assert!(!wants_verified_claims(&shop, None, Destination::Userinfo));
        assert!(!wants_verified_claims(
            &shop,
            Some(&request),
            Destination::IdToken
        ));
        assert!(wants_verified_claims(
            &shop,
            Some(&request),
            Destination::Userinfo
        ));
        let released = verified_claims(
            &stored(),
            &scope(&["openid", "profile"]),
            Some(&request),
            &shop,
            Destination::Userinfo,
        )
        .unwrap();
        assert_eq!(released["claims"], json!({"given_name": "Ada"}));
        assert_eq!(released["verification"]["trust_framework"], "eidas");
        assert_eq!(
            verified_claims(
                &stored(),
                &scope(&["openid"]),
                Some(&request),
                &shop,
                Destination::Userinfo
            ),
            None,
            "without the profile scope nothing it asked for may be released"
        );
        assert_eq!(
            verified_claims(
                &stored(),
                &scope(&["openid", "profile"]),
                Some(&request),
                &shop,
                Destination::IdToken
            ),
            None,
            "asked for userinfo only"
        );
    }
}
