//! SCIM `User` resources and Tessera users: [`render_user`] writes the resource a client
//! reads, [`read_user`] turns a client's resource (a POST or PUT body, or a PATCH result)
//! into the user's next state.
//!
//! A resource carries only what SCIM can express. Reading one over an existing user keeps
//! what SCIM cannot say: external ids of other sources, the verified flags of addresses
//! and numbers that stay, and email purposes when the request leaves `emailPurposes` out
//! (clients that do not know Tessera's extension must not wipe them on every PUT).
//! Read-only attributes in a request (`id`, `meta`, `groups`, `status`, `name.formatted`)
//! are ignored (RFC 7643 §7); unknown attributes are refused, never dropped silently.

use super::fields::{Fields, Location, rfc3339};
use crate::error::ScimError;
use crate::json;
use crate::urn;
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use tessera_core::attributes::{AttributeSchema, AttributeType};
use tessera_core::email::Email;
use tessera_core::group::Group;
use tessera_core::ids::UserId;
use tessera_core::phone::ContactNumber;
use tessera_core::service::UserReplacement;
use tessera_core::user::{
    Address, EmailPurpose, Enterprise, ExternalId, Profile, User, UserEmail, UserPhone, UserStatus,
    Username,
};

/// The external id source that SCIM's `externalId` stands for.
pub const SCIM_SOURCE: &str = "scim";

const CORE_ATTRIBUTES: [&str; 20] = [
    "schemas",
    "id",
    "externalId",
    "meta",
    "userName",
    "name",
    "displayName",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "active",
    "password",
    "emails",
    "phoneNumbers",
    "addresses",
    "groups",
];

/// The resource of `user`, with `groups` it is a direct member of. Custom attributes of
/// type `json` have no SCIM type and are left out (see [`super::user_schemas`]).
pub fn render_user(
    user: &User,
    groups: &[Group],
    custom: &AttributeSchema,
    location: &Location,
) -> Value {
    let profile = &user.profile;
    let mut out = Map::new();
    let mut schemas = vec![urn::CORE_USER];
    if !profile.enterprise.is_empty() {
        schemas.push(urn::ENTERPRISE_USER);
    }
    schemas.push(urn::TESSERA_USER);
    out.insert("schemas".into(), json!(schemas));
    out.insert("id".into(), json!(user.id.to_string()));
    if let Some(external) = scim_external_id(profile) {
        out.insert("externalId".into(), json!(external));
    }
    if let Some(username) = &profile.username {
        out.insert("userName".into(), json!(username.as_str()));
    }
    let name = render_name(profile);
    if !name.is_empty() {
        out.insert("name".into(), Value::Object(name));
    }
    for (key, value) in [
        ("displayName", &profile.name),
        ("nickName", &profile.nickname),
        ("profileUrl", &profile.profile_url),
        ("title", &profile.title),
        ("userType", &profile.user_type),
        ("preferredLanguage", &profile.preferred_language),
        ("locale", &profile.locale),
        ("timezone", &profile.zoneinfo),
    ] {
        if let Some(value) = value {
            out.insert(key.into(), json!(value));
        }
    }
    let disabled = user.status == UserStatus::Disabled;
    if disabled || !profile.active_unassigned {
        out.insert("active".into(), json!(!disabled));
    }
    if !profile.emails.is_empty() {
        let emails = profile
            .emails
            .iter()
            .map(|email| contact(email.value.as_str(), email.kind.as_deref(), email.primary));
        out.insert("emails".into(), Value::Array(emails.collect()));
    }
    if !profile.phone_numbers.is_empty() {
        let phones = profile
            .phone_numbers
            .iter()
            .map(|phone| contact(phone.value.as_str(), phone.kind.as_deref(), phone.primary));
        out.insert("phoneNumbers".into(), Value::Array(phones.collect()));
    }
    if !profile.addresses.is_empty() {
        let addresses = profile.addresses.iter().map(render_address).collect();
        out.insert("addresses".into(), Value::Array(addresses));
    }
    if !groups.is_empty() {
        let groups = groups
            .iter()
            .map(|group| {
                json!({
                    "value": group.id.to_string(),
                    "$ref": location.group(&group.id.to_string()),
                    "display": group.display_name.as_str(),
                    "type": "direct",
                })
            })
            .collect();
        out.insert("groups".into(), Value::Array(groups));
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": rfc3339(user.created_at),
            "lastModified": rfc3339(user.updated_at),
            "location": location.user(&user.id.to_string()),
            "version": super::etag(user.version),
        }),
    );
    if !profile.enterprise.is_empty() {
        out.insert(
            urn::ENTERPRISE_USER.into(),
            Value::Object(render_enterprise(&profile.enterprise, location)),
        );
    }
    out.insert(
        urn::TESSERA_USER.into(),
        Value::Object(render_tessera(user, custom)),
    );
    Value::Object(out)
}

fn scim_external_id(profile: &Profile) -> Option<&str> {
    profile
        .external_ids
        .iter()
        .find(|id| id.source == SCIM_SOURCE)
        .map(|id| id.value.as_str())
}

fn render_name(profile: &Profile) -> Map<String, Value> {
    let mut name = Map::new();
    for (key, value) in [
        ("formatted", &profile.formatted_name),
        ("familyName", &profile.family_name),
        ("givenName", &profile.given_name),
        ("middleName", &profile.middle_name),
        ("honorificPrefix", &profile.honorific_prefix),
        ("honorificSuffix", &profile.honorific_suffix),
    ] {
        if let Some(value) = value {
            name.insert(key.into(), json!(value));
        }
    }
    name
}

fn contact(value: &str, kind: Option<&str>, primary: bool) -> Value {
    let mut out = Map::new();
    out.insert("value".into(), json!(value));
    if let Some(kind) = kind {
        out.insert("type".into(), json!(kind));
    }
    out.insert("primary".into(), json!(primary));
    Value::Object(out)
}

fn render_address(address: &Address) -> Value {
    let mut out = Map::new();
    for (key, value) in [
        ("type", &address.kind),
        ("formatted", &address.formatted),
        ("streetAddress", &address.street_address),
        ("locality", &address.locality),
        ("region", &address.region),
        ("postalCode", &address.postal_code),
        ("country", &address.country),
    ] {
        if let Some(value) = value {
            out.insert(key.into(), json!(value));
        }
    }
    out.insert("primary".into(), json!(address.primary));
    Value::Object(out)
}

fn render_enterprise(enterprise: &Enterprise, location: &Location) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in [
        ("employeeNumber", &enterprise.employee_number),
        ("costCenter", &enterprise.cost_center),
        ("organization", &enterprise.organization),
        ("division", &enterprise.division),
        ("department", &enterprise.department),
    ] {
        if let Some(value) = value {
            out.insert(key.into(), json!(value));
        }
    }
    if let Some(manager) = enterprise.manager {
        let id = manager.to_string();
        out.insert(
            "manager".into(),
            json!({"value": id, "$ref": location.user(&id)}),
        );
    }
    out
}

fn render_tessera(user: &User, custom: &AttributeSchema) -> Map<String, Value> {
    let profile = &user.profile;
    let mut out = Map::new();
    out.insert("status".into(), json!(user.status.as_str()));
    let purposes: Vec<Value> = profile
        .emails
        .iter()
        .filter(|email| !email.purposes.is_empty())
        .map(|email| {
            let purposes: Vec<&str> = email.purposes.iter().map(|p| purpose_name(*p)).collect();
            json!({"value": email.value.as_str(), "purposes": purposes})
        })
        .collect();
    if !purposes.is_empty() {
        out.insert("emailPurposes".into(), Value::Array(purposes));
    }
    if let Some(analytics) = &profile.analytics_id {
        out.insert("analyticsId".into(), json!(analytics));
    }
    // Only the attributes the extension declares: not `json` ones, nor names the extension
    // reserves for itself (an older attribute schema may hold one).
    let declared = super::custom_attributes(custom);
    for (key, value) in &profile.attributes {
        if declared.iter().any(|attribute| attribute.name == *key) {
            out.insert(key.clone(), value.clone());
        }
    }
    out
}

/// The values of `json` attributes, which are not part of the SCIM resource, so that no
/// SCIM write loses them.
fn json_attributes(profile: &Profile, custom: &AttributeSchema) -> Map<String, Value> {
    profile
        .attributes
        .iter()
        .filter(|(name, _)| is_json(custom, name))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

fn is_json(custom: &AttributeSchema, name: &str) -> bool {
    custom
        .definition(name)
        .is_some_and(|definition| definition.kind == AttributeType::Json)
}

fn purpose_name(purpose: EmailPurpose) -> &'static str {
    match purpose {
        EmailPurpose::Signin => "signin",
        EmailPurpose::Security => "security",
        EmailPurpose::Billing => "billing",
        EmailPurpose::Marketing => "marketing",
    }
}

/// What a resource without Tessera's extension means for the values the extension holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingExtension {
    /// A PUT from a client that does not know the extension: they stay.
    Keep,
    /// The result of a PATCH, which started from the whole resource: they were removed.
    Clear,
}

/// The resource a PATCH starts from: the user without what no request may change or
/// remove (`status`, derived), so that removing the whole Tessera extension removes
/// only what a client wrote.
pub fn patch_base(user: &User, custom: &AttributeSchema, location: &Location) -> Value {
    let mut resource = render_user(user, &[], custom, location);
    if let Value::Object(root) = &mut resource {
        let empty = match root.get_mut(urn::TESSERA_USER) {
            Some(Value::Object(tessera)) => {
                tessera.remove("status");
                tessera.is_empty()
            }
            _ => false,
        };
        if empty {
            root.remove(urn::TESSERA_USER);
            if let Some(Value::Array(schemas)) = root.get_mut("schemas") {
                schemas.retain(|schema| schema != urn::TESSERA_USER);
            }
        }
    }
    resource
}

/// The next state of a user from a client's resource: over `current` for PUT and PATCH,
/// from nothing for POST. `custom` is the tenant's attribute schema (values are validated
/// against it by the core service; here they are only taken from the extension).
pub fn read_user(
    resource: &Value,
    current: Option<&User>,
    custom: &AttributeSchema,
    missing_extension: MissingExtension,
) -> Result<UserReplacement, ScimError> {
    let Value::Object(root) = resource else {
        return Err(ScimError::invalid_syntax("a User is a JSON object"));
    };
    check_schemas(root)?;
    let fields = Fields::new(root, "");
    fields.refuse_unknown(&CORE_ATTRIBUTES, &[urn::ENTERPRISE_USER, urn::TESSERA_USER])?;
    let kept = current.map(|user| &user.profile);
    let mut profile = Profile {
        username: match fields.string("userName")? {
            Some(text) => Some(
                Username::parse(&text)
                    .map_err(|e| ScimError::invalid_value(format!("userName: {e}")))?,
            ),
            None => return Err(ScimError::invalid_value("userName is required")),
        },
        name: fields.string("displayName")?,
        nickname: fields.string("nickName")?,
        profile_url: fields.string("profileUrl")?,
        title: fields.string("title")?,
        user_type: fields.string("userType")?,
        preferred_language: fields.string("preferredLanguage")?,
        locale: fields.string("locale")?,
        zoneinfo: fields.string("timezone")?,
        phone_numbers: read_phones(&fields, kept)?,
        addresses: read_addresses(&fields)?,
        external_ids: read_external_ids(&fields, kept)?,
        ..Profile::default()
    };
    if let Some(name) = fields.object("name")? {
        name.refuse_unknown(
            &[
                "formatted",
                "givenName",
                "familyName",
                "middleName",
                "honorificPrefix",
                "honorificSuffix",
            ],
            &[],
        )?;
        profile.formatted_name = name.string("formatted")?;
        profile.given_name = name.string("givenName")?;
        profile.family_name = name.string("familyName")?;
        profile.middle_name = name.string("middleName")?;
        profile.honorific_prefix = name.string("honorificPrefix")?;
        profile.honorific_suffix = name.string("honorificSuffix")?;
    }
    profile.emails = read_emails(&fields, kept)?;
    if let Some(enterprise) = fields.object(urn::ENTERPRISE_USER)? {
        profile.enterprise = read_enterprise(&enterprise)?;
    }
    match fields.object(urn::TESSERA_USER)? {
        Some(tessera) => {
            if let Some(kept) = kept {
                profile.attributes = json_attributes(kept, custom);
            }
            read_tessera(&tessera, &mut profile, custom)?;
        }
        None => match (kept, missing_extension) {
            (Some(kept), MissingExtension::Keep) => {
                profile.analytics_id.clone_from(&kept.analytics_id);
                profile.attributes.clone_from(&kept.attributes);
            }
            (Some(kept), MissingExtension::Clear) => {
                profile.attributes = json_attributes(kept, custom);
            }
            (None, _) => {}
        },
    }
    let active = fields.boolean("active")?;
    profile.active_unassigned = active.is_none();
    let password = fields.string("password")?.map(SecretString::from);
    Ok(UserReplacement {
        profile,
        active: active.unwrap_or(true),
        password,
    })
}

fn check_schemas(root: &Map<String, Value>) -> Result<(), ScimError> {
    let Some(Value::Array(schemas)) = json::get(root, "schemas") else {
        return Err(ScimError::invalid_syntax(format!(
            "'schemas' must list {}",
            urn::CORE_USER
        )));
    };
    let mut core = false;
    for schema in schemas {
        let Some(uri) = schema.as_str() else {
            return Err(ScimError::invalid_syntax("'schemas' holds strings"));
        };
        if uri.eq_ignore_ascii_case(urn::CORE_USER) {
            core = true;
        } else if !uri.eq_ignore_ascii_case(urn::ENTERPRISE_USER)
            && !uri.eq_ignore_ascii_case(urn::TESSERA_USER)
        {
            return Err(ScimError::invalid_value(format!(
                "'{uri}' is not a schema of Users"
            )));
        }
    }
    if core {
        Ok(())
    } else {
        Err(ScimError::invalid_syntax(format!(
            "'schemas' must list {}",
            urn::CORE_USER
        )))
    }
}

fn read_external_ids(
    fields: &Fields<'_>,
    kept: Option<&Profile>,
) -> Result<Vec<ExternalId>, ScimError> {
    let mut ids: Vec<ExternalId> = kept
        .map(|profile| {
            profile
                .external_ids
                .iter()
                .filter(|id| id.source != SCIM_SOURCE)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if let Some(value) = fields.string("externalId")? {
        ids.push(ExternalId {
            source: SCIM_SOURCE.to_owned(),
            value,
        });
    }
    Ok(ids)
}

fn read_emails(fields: &Fields<'_>, kept: Option<&Profile>) -> Result<Vec<UserEmail>, ScimError> {
    let mut emails = Vec::new();
    for (index, item) in fields.items("emails")?.iter().enumerate() {
        item.refuse_unknown(&["value", "type", "primary"], &[])?;
        let Some(text) = item.string("value")? else {
            return Err(ScimError::invalid_value(format!(
                "emails[{index}].value is required"
            )));
        };
        let value = Email::parse(&text)
            .map_err(|e| ScimError::invalid_value(format!("emails[{index}].value: {e}")))?;
        let before = kept.and_then(|profile| {
            profile
                .emails
                .iter()
                .find(|email| email.value.normalized() == value.normalized())
        });
        emails.push(UserEmail {
            verified: before.is_some_and(|email| email.verified),
            purposes: before
                .map(|email| email.purposes.clone())
                .unwrap_or_default(),
            value,
            primary: item.boolean("primary")?.unwrap_or(false),
            kind: item.string("type")?,
        });
    }
    Ok(emails)
}

fn read_phones(fields: &Fields<'_>, kept: Option<&Profile>) -> Result<Vec<UserPhone>, ScimError> {
    let mut phones = Vec::new();
    for (index, item) in fields.items("phoneNumbers")?.iter().enumerate() {
        item.refuse_unknown(&["value", "type", "primary"], &[])?;
        let Some(text) = item.string("value")? else {
            return Err(ScimError::invalid_value(format!(
                "phoneNumbers[{index}].value is required"
            )));
        };
        // RFC 3966 `tel:` URIs are common in SCIM; the number is what follows.
        let number = text.strip_prefix("tel:").unwrap_or(&text);
        let value = ContactNumber::parse(number)
            .map_err(|e| ScimError::invalid_value(format!("phoneNumbers[{index}].value: {e}")))?;
        let verified = kept.is_some_and(|profile| {
            profile
                .phone_numbers
                .iter()
                .any(|phone| phone.value == value && phone.verified)
        });
        phones.push(UserPhone {
            value,
            primary: item.boolean("primary")?.unwrap_or(false),
            verified,
            kind: item.string("type")?,
        });
    }
    Ok(phones)
}

fn read_addresses(fields: &Fields<'_>) -> Result<Vec<Address>, ScimError> {
    fields
        .items("addresses")?
        .iter()
        .map(|item| {
            item.refuse_unknown(
                &[
                    "type",
                    "formatted",
                    "streetAddress",
                    "locality",
                    "region",
                    "postalCode",
                    "country",
                    "primary",
                ],
                &[],
            )?;
            Ok(Address {
                kind: item.string("type")?,
                formatted: item.string("formatted")?,
                street_address: item.string("streetAddress")?,
                locality: item.string("locality")?,
                region: item.string("region")?,
                postal_code: item.string("postalCode")?,
                country: item.string("country")?,
                primary: item.boolean("primary")?.unwrap_or(false),
            })
        })
        .collect()
}

fn read_enterprise(fields: &Fields<'_>) -> Result<Enterprise, ScimError> {
    fields.refuse_unknown(
        &[
            "schemas",
            "employeeNumber",
            "costCenter",
            "organization",
            "division",
            "department",
            "manager",
        ],
        &[],
    )?;
    let manager = match fields.object("manager")? {
        Some(manager) => {
            manager.refuse_unknown(&["value", "$ref", "displayName"], &[])?;
            match manager.string("value")? {
                Some(text) => Some(text.parse::<UserId>().map_err(|_| {
                    ScimError::invalid_value("manager.value: not the id of a User")
                })?),
                None => None,
            }
        }
        None => None,
    };
    Ok(Enterprise {
        employee_number: fields.string("employeeNumber")?,
        cost_center: fields.string("costCenter")?,
        organization: fields.string("organization")?,
        division: fields.string("division")?,
        department: fields.string("department")?,
        manager,
    })
}

fn read_tessera(
    fields: &Fields<'_>,
    profile: &mut Profile,
    custom: &AttributeSchema,
) -> Result<(), ScimError> {
    let declared = super::custom_attributes(custom);
    // `status` and `emailPurposes` are read-only: ignored in requests (RFC 7643 §7). Email
    // purposes stay as they were, carried over address by address in `read_emails`.
    let mut known = vec!["schemas", "status", "emailPurposes", "analyticsId"];
    known.extend(declared.iter().map(|attribute| attribute.name.as_str()));
    fields.refuse_unknown(&known, &[])?;
    profile.analytics_id = fields.string("analyticsId")?;
    for attribute in &declared {
        if let Some(value) = fields.value(&attribute.name)
            && !value.is_null()
        {
            profile
                .attributes
                .insert(attribute.name.clone(), value.clone());
        }
    }
    Ok(())
}
