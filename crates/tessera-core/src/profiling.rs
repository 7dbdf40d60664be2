//! Progressive profiling: each client declares the attributes it needs about its users
//! ([`AttributeNeeds`]), and during that client's authorization request, after sign-in,
//! the user is asked for exactly the ones still missing, on one short form.
//!
//! *Required* attributes must be answered before the client gets a code. *Requested* ones
//! may be skipped; a skip is remembered per user and client and the question comes back
//! after the tenant's [`ProfilingSettings::ask_again_after_days`].
//!
//! Attributes are named as in OpenID Connect (`given_name`, `birthdate`, `phone_number`,
//! `address`…) or, for the tenant's custom attributes, `attributes.<name>`. Everything here
//! is a pure function of the user, the schema, the answers and `now`.

use crate::attributes::{AttributeSchema, AttributeType};
use crate::error::FieldError;
use crate::ids::{ClientId, TenantId, UserId};
use crate::phone::PhoneNumber;
use crate::profile::Address;
use crate::store::StoreResult;
use crate::user::{Profile, User};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, Duration, OffsetDateTime};

/// Standard attributes the profiling form can ask for, in the order it asks.
pub const STANDARD_ATTRIBUTES: [&str; 8] = [
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "name",
    "birthdate",
    "phone_number",
    "address",
];
/// How custom attributes are named in [`AttributeNeeds`].
pub const CUSTOM_PREFIX: &str = "attributes.";
/// Most attributes one client may need.
pub const MAX_NEEDS: usize = 30;
/// Most choices (enum values) one client's form may offer in all: the form stays short
/// enough to read, and within the page templates' rendering budget.
pub const MAX_CHOICES: usize = 1000;
/// The parts of an address the form asks for, as form fields `address.<part>`.
pub const ADDRESS_PARTS: [&str; 5] = [
    "street_address",
    "postal_code",
    "locality",
    "region",
    "country",
];

/// What a client needs to know about its users (a Tessera client metadata extension).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttributeNeeds {
    /// Asked before the client gets a code; the user cannot skip them.
    pub required: BTreeSet<String>,
    /// Asked as well, but the user may skip them.
    pub requested: BTreeSet<String>,
}

fn is_known_name(name: &str) -> bool {
    STANDARD_ATTRIBUTES.contains(&name)
        || name.strip_prefix(CUSTOM_PREFIX).is_some_and(|custom| {
            let mut chars = custom.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
                && custom.len() <= 64
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

impl AttributeNeeds {
    pub fn is_empty(&self) -> bool {
        self.required.is_empty() && self.requested.is_empty()
    }

    /// Every attribute named, required ones first.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.required
            .iter()
            .chain(self.requested.iter())
            .map(String::as_str)
    }

    /// Checks the names (standard ones, or custom ones the schema declares as editable by
    /// users, with a type a form can ask for) and that none is both required and requested.
    pub fn check(&self, schema: &AttributeSchema, errors: &mut Vec<FieldError>) {
        let choices: usize = self
            .names()
            .filter_map(|name| schema.definition(name.strip_prefix(CUSTOM_PREFIX)?))
            .map(|definition| definition.enum_values.len())
            .sum();
        if choices > MAX_CHOICES {
            errors.push(FieldError::new(
                "required_attributes",
                format!("the form would offer {choices} choices; at most {MAX_CHOICES}"),
            ));
        }
        if self.required.len() + self.requested.len() > MAX_NEEDS {
            errors.push(FieldError::new(
                "required_attributes",
                format!("at most {MAX_NEEDS} attributes in all"),
            ));
        }
        for (field, names) in [
            ("required_attributes", &self.required),
            ("requested_attributes", &self.requested),
        ] {
            for name in names {
                if !is_known_name(name) {
                    errors.push(FieldError::new(
                        field,
                        format!(
                            "'{}' is neither one of {} nor attributes.<name>",
                            name.chars().take(80).collect::<String>(),
                            STANDARD_ATTRIBUTES.join(", ")
                        ),
                    ));
                } else if let Some(custom) = name.strip_prefix(CUSTOM_PREFIX) {
                    match schema.definition(custom) {
                        None => errors.push(FieldError::new(
                            field,
                            format!("'{custom}' is not in the tenant's attribute schema"),
                        )),
                        Some(definition) if definition.kind == AttributeType::Json => {
                            errors.push(FieldError::new(
                                field,
                                format!(
                                    "'{custom}' is a json attribute, which no form can ask for"
                                ),
                            ))
                        }
                        // The user answers the form: an attribute only administrators may set
                        // (a loyalty tier, a credit limit) is not theirs to choose.
                        Some(definition) if !definition.user_editable => {
                            errors.push(FieldError::new(
                                field,
                                format!(
                                    "'{custom}' is not user_editable in the schema, so users cannot be asked for it"
                                ),
                            ))
                        }
                        Some(_) => {}
                    }
                }
            }
        }
        if let Some(both) = self.required.intersection(&self.requested).next() {
            errors.push(FieldError::new(
                "requested_attributes",
                format!("'{both}' is already required"),
            ));
        }
    }
}

/// A tenant's profiling settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfilingSettings {
    /// Days after which a skipped requested attribute is asked again (1 to 365).
    pub ask_again_after_days: u32,
}

impl Default for ProfilingSettings {
    fn default() -> Self {
        Self {
            ask_again_after_days: 30,
        }
    }
}

impl ProfilingSettings {
    pub fn check(&self, errors: &mut Vec<FieldError>) {
        if !(1..=365).contains(&self.ask_again_after_days) {
            errors.push(FieldError::new("ask_again_after_days", "1 to 365 days"));
        }
    }
}

/// How the form asks for an attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "choices", rename_all = "snake_case")]
pub enum Field {
    Text,
    Date,
    Phone,
    Address,
    Number,
    /// Yes or no.
    Boolean,
    Choice(Vec<String>),
}

/// One question of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Question {
    /// The attribute's name in [`AttributeNeeds`], also the form field's name.
    pub attribute: String,
    pub field: Field,
    pub required: bool,
    /// The schema's description of a custom attribute.
    pub description: Option<String>,
}

/// When a user last skipped a requested attribute for one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub attribute: String,
    pub skipped_at: OffsetDateTime,
}

/// Whether the profile holds a value for `attribute`. With `verified_phone`, only a verified
/// number counts (the tenant can send SMS, so numbers are proven before they count).
pub fn has_value(profile: &Profile, attribute: &str, verified_phone: bool) -> bool {
    match attribute {
        "given_name" => profile.given_name.is_some(),
        "family_name" => profile.family_name.is_some(),
        "middle_name" => profile.middle_name.is_some(),
        "nickname" => profile.nickname.is_some(),
        "name" => profile.name.is_some(),
        "birthdate" => profile.birthdate.is_some(),
        "phone_number" => profile
            .primary_phone()
            .is_some_and(|phone| phone.verified || !verified_phone),
        "address" => !profile.addresses.is_empty(),
        other => other
            .strip_prefix(CUSTOM_PREFIX)
            .is_some_and(|custom| profile.attributes.contains_key(custom)),
    }
}

fn field_of(attribute: &str, schema: &AttributeSchema) -> Option<(Field, Option<String>)> {
    let field = match attribute {
        "birthdate" => Field::Date,
        "phone_number" => Field::Phone,
        "address" => Field::Address,
        name if STANDARD_ATTRIBUTES.contains(&name) => Field::Text,
        other => {
            let definition = schema
                .definition(other.strip_prefix(CUSTOM_PREFIX)?)
                .filter(|definition| definition.user_editable)?;
            let field = match definition.kind {
                AttributeType::String => Field::Text,
                AttributeType::Number => Field::Number,
                AttributeType::Boolean => Field::Boolean,
                AttributeType::Date => Field::Date,
                AttributeType::Enum => Field::Choice(definition.enum_values.clone()),
                AttributeType::Json => return None,
            };
            return Some((field, definition.description.clone()));
        }
    };
    Some((field, None))
}

/// What the form must ask `user` for this client now: missing required attributes, and
/// missing requested ones not skipped within the tenant's interval. Custom attributes the
/// schema no longer declares are left out.
pub fn questions(
    user: &User,
    needs: &AttributeNeeds,
    schema: &AttributeSchema,
    skips: &[Skip],
    settings: ProfilingSettings,
    verified_phone: bool,
    now: OffsetDateTime,
) -> Vec<Question> {
    let interval = Duration::days(settings.ask_again_after_days.into());
    let skipped_lately = |attribute: &str| {
        skips
            .iter()
            .any(|skip| skip.attribute == attribute && now - skip.skipped_at < interval)
    };
    let mut questions: Vec<Question> = needs
        .names()
        .filter(|name| !has_value(&user.profile, name, verified_phone))
        .filter_map(|name| {
            let required = needs.required.contains(name);
            if !required && skipped_lately(name) {
                return None;
            }
            let (field, description) = field_of(name, schema)?;
            Some(Question {
                attribute: name.to_owned(),
                field,
                required,
                description,
            })
        })
        .collect();
    // Standard attributes in their natural order, then custom ones as declared.
    let rank = |q: &Question| {
        STANDARD_ATTRIBUTES
            .iter()
            .position(|s| *s == q.attribute)
            .unwrap_or(STANDARD_ATTRIBUTES.len())
    };
    questions.sort_by_key(rank);
    questions
}

/// A value read from the form.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Text(String),
    Phone(PhoneNumber),
    Address(Address),
    Custom(Value),
}

/// The form's answers, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answers {
    pub values: Vec<(String, Answer)>,
    /// Requested attributes left empty.
    pub skipped: Vec<String>,
}

impl Answers {
    /// The phone number given, if any.
    pub fn phone(&self) -> Option<&PhoneNumber> {
        self.values.iter().find_map(|(_, answer)| match answer {
            Answer::Phone(phone) => Some(phone),
            _ => None,
        })
    }

    /// The attributes answered.
    pub fn attributes(&self) -> Vec<String> {
        self.values.iter().map(|(name, _)| name.clone()).collect()
    }
}

fn text_of<'a>(form: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    form.get(name).map_or("", |value| value.trim())
}

/// Checks the form against the questions. Every problem is reported under the form field's
/// name; unknown fields are ignored (the questions decide what is read).
pub fn read_answers(
    questions: &[Question],
    form: &BTreeMap<String, String>,
    today: Date,
) -> Result<Answers, Vec<FieldError>> {
    let mut answers = Answers::default();
    let mut errors = Vec::new();
    for question in questions {
        let name = question.attribute.as_str();
        let empty = match &question.field {
            Field::Address => ADDRESS_PARTS
                .iter()
                .all(|part| text_of(form, &format!("address.{part}")).is_empty()),
            _ => text_of(form, name).is_empty(),
        };
        if empty {
            if question.required {
                errors.push(FieldError::new(name, "required"));
            } else {
                answers.skipped.push(name.to_owned());
            }
            continue;
        }
        match read_one(question, form, today) {
            Ok(answer) => answers.values.push((name.to_owned(), answer)),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(answers)
    } else {
        Err(errors)
    }
}

fn read_one(
    question: &Question,
    form: &BTreeMap<String, String>,
    today: Date,
) -> Result<Answer, FieldError> {
    let name = question.attribute.as_str();
    let text = text_of(form, name);
    let invalid = |reason: &str| FieldError::new(name, reason);
    let custom = name.starts_with(CUSTOM_PREFIX);
    match &question.field {
        Field::Phone => PhoneNumber::parse(text)
            .map(Answer::Phone)
            .map_err(|_| invalid("an international number starting with +, e.g. +41 44 668 18 00")),
        Field::Address => read_address(form),
        Field::Date => {
            let date = crate::profile::birthdate(text)
                .ok_or_else(|| invalid("a date in the form YYYY-MM-DD"))?;
            if name == "birthdate" && date > today {
                return Err(invalid("a date in the past"));
            }
            Ok(if custom {
                Answer::Custom(Value::String(text.to_owned()))
            } else {
                Answer::Text(text.to_owned())
            })
        }
        Field::Number => {
            let number = text
                .parse::<i64>()
                .map(serde_json::Number::from)
                .ok()
                .or_else(|| {
                    text.parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                })
                .ok_or_else(|| invalid("a number"))?;
            Ok(Answer::Custom(Value::Number(number)))
        }
        Field::Boolean => match text {
            "true" => Ok(Answer::Custom(Value::Bool(true))),
            "false" => Ok(Answer::Custom(Value::Bool(false))),
            _ => Err(invalid("yes or no")),
        },
        Field::Choice(choices) if choices.iter().any(|c| c == text) => {
            Ok(Answer::Custom(Value::String(text.to_owned())))
        }
        Field::Choice(_) => Err(invalid("one of the choices offered")),
        Field::Text => {
            let limit = if custom {
                crate::attributes::MAX_STRING_BYTES
            } else {
                crate::profile::MAX_TEXT_CHARS
            };
            if text.chars().count() > limit || text.chars().any(char::is_control) {
                return Err(invalid(&format!("at most {limit} characters, on one line")));
            }
            Ok(if custom {
                Answer::Custom(Value::String(text.to_owned()))
            } else {
                Answer::Text(text.to_owned())
            })
        }
    }
}

fn read_address(form: &BTreeMap<String, String>) -> Result<Answer, FieldError> {
    let part = |name: &str| {
        Some(text_of(form, &format!("address.{name}")).to_owned()).filter(|v| !v.is_empty())
    };
    let address = Address {
        street_address: part("street_address"),
        postal_code: part("postal_code"),
        locality: part("locality"),
        region: part("region"),
        country: part("country"),
        primary: true,
        ..Address::default()
    };
    if address.street_address.is_none() || address.locality.is_none() || address.country.is_none() {
        return Err(FieldError::new(
            "address",
            "street, city and country are needed",
        ));
    }
    let mut errors = Vec::new();
    let mut checked = address.clone();
    checked.normalize(0, &mut errors);
    match errors.first() {
        Some(_) => Err(FieldError::new(
            "address",
            "each part at most 200 characters, on one line",
        )),
        None => Ok(Answer::Address(checked)),
    }
}

/// The profile with the answers written in. A phone number given here is added unverified
/// and made primary; when the tenant verifies numbers by SMS the caller leaves it out and
/// lets the verification add it.
pub fn apply(profile: &Profile, answers: &Answers, include_phone: bool) -> Profile {
    let mut next = profile.clone();
    for (name, answer) in &answers.values {
        match answer {
            Answer::Text(text) => {
                let value = Some(text.clone());
                match name.as_str() {
                    "given_name" => next.given_name = value,
                    "family_name" => next.family_name = value,
                    "middle_name" => next.middle_name = value,
                    "nickname" => next.nickname = value,
                    "name" => next.name = value,
                    "birthdate" => next.birthdate = value,
                    _ => {}
                }
            }
            Answer::Phone(phone) if include_phone => {
                next = crate::phone_verification::with_primary_phone(&next, phone, false);
            }
            Answer::Phone(_) => {}
            Answer::Address(address) => {
                for existing in &mut next.addresses {
                    existing.primary = false;
                }
                next.addresses.insert(0, address.clone());
            }
            Answer::Custom(value) => {
                if let Some(custom) = name.strip_prefix(CUSTOM_PREFIX) {
                    next.attributes.insert(custom.to_owned(), value.clone());
                }
            }
        }
    }
    next
}

/// Where skips are kept.
#[async_trait::async_trait]
pub trait ProfilingStore: Send + Sync {
    /// The user's skips for one client.
    async fn profiling_skips(
        &self,
        tenant: TenantId,
        user: UserId,
        client: ClientId,
    ) -> StoreResult<Vec<Skip>>;
    /// Records that the user skipped `attributes` for the client at `at` (replacing earlier
    /// skips of the same attributes).
    async fn record_profiling_skips(
        &self,
        tenant: TenantId,
        user: UserId,
        client: ClientId,
        attributes: &[String],
        at: OffsetDateTime,
    ) -> StoreResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::AttributeDefinition;
    use crate::phone_verification::with_primary_phone;
    use crate::user::UserStatus;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-29 12:00 UTC);

    fn schema() -> AttributeSchema {
        let define = |name: &str, kind, enum_values: Vec<&str>| AttributeDefinition {
            name: name.into(),
            kind,
            required: false,
            personal_data: true,
            user_editable: true,
            description: Some(format!("Your {name}")),
            enum_values: enum_values.into_iter().map(String::from).collect(),
        };
        AttributeSchema {
            attributes: vec![
                define("loyalty_tier", AttributeType::Enum, vec!["silver", "gold"]),
                define("shoe_size", AttributeType::Number, vec![]),
                define("newsletter", AttributeType::Boolean, vec![]),
                define("preferences", AttributeType::Json, vec![]),
            ],
        }
    }

    fn user(profile: Profile) -> User {
        User {
            id: UserId::new_at(NOW),
            tenant_id: TenantId::new_at(NOW),
            status: UserStatus::Active,
            profile,
            password_hash: None,
            created_at: NOW,
            updated_at: NOW,
            version: 1,
        }
    }

    fn needs(required: &[&str], requested: &[&str]) -> AttributeNeeds {
        AttributeNeeds {
            required: required.iter().map(|s| (*s).to_owned()).collect(),
            requested: requested.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn asked(questions: &[Question]) -> Vec<(&str, bool)> {
        questions
            .iter()
            .map(|q| (q.attribute.as_str(), q.required))
            .collect()
    }

    #[test]
    fn names_are_checked_against_the_standard_list_and_the_schema() {
        let mut errors = Vec::new();
        needs(
            &["birthdate", "attributes.shoe_size"],
            &["attributes.loyalty_tier"],
        )
        .check(&schema(), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let mut with_admin_only = schema();
        with_admin_only.attributes.push(AttributeDefinition {
            name: "credit_limit".into(),
            kind: AttributeType::Number,
            required: false,
            personal_data: true,
            user_editable: false,
            description: None,
            enum_values: Vec::new(),
        });
        needs(
            &["email", "attributes.unknown", "attributes.preferences"],
            &["email", "attributes.credit_limit"],
        )
        .check(&with_admin_only, &mut errors);
        let fields: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(fields.len(), 6, "{fields:?}");
        for expected in [
            "required_attributes: 'email' is neither",
            "required_attributes: 'unknown' is not in the tenant's attribute schema",
            "required_attributes: 'preferences' is a json attribute",
            "requested_attributes: 'email' is neither",
            "requested_attributes: 'email' is already required",
            "requested_attributes: 'credit_limit' is not user_editable",
        ] {
            assert!(
                fields.iter().any(|f| f.starts_with(expected)),
                "{expected}: {fields:?}"
            );
        }
    }

    #[test]
    fn only_missing_attributes_are_asked_and_skips_expire() {
        let profile = Profile {
            given_name: Some("Ada".into()),
            ..Profile::default()
        };
        let needs = needs(
            &["given_name", "phone_number", "birthdate"],
            &["attributes.loyalty_tier", "address"],
        );
        let settings = ProfilingSettings::default();
        let all = questions(
            &user(profile.clone()),
            &needs,
            &schema(),
            &[],
            settings,
            false,
            NOW,
        );
        assert_eq!(
            asked(&all),
            [
                ("birthdate", true),
                ("phone_number", true),
                ("address", false),
                ("attributes.loyalty_tier", false)
            ]
        );
        assert_eq!(
            all[3].field,
            Field::Choice(vec!["silver".into(), "gold".into()])
        );
        let skips = [Skip {
            attribute: "address".into(),
            skipped_at: NOW - Duration::days(29),
        }];
        let later = questions(
            &user(profile.clone()),
            &needs,
            &schema(),
            &skips,
            settings,
            false,
            NOW,
        );
        assert!(!asked(&later).contains(&("address", false)));
        let much_later = NOW + Duration::days(2);
        let again = questions(
            &user(profile),
            &needs,
            &schema(),
            &skips,
            settings,
            false,
            much_later,
        );
        assert!(asked(&again).contains(&("address", false)));
    }

    #[test]
    fn an_unverified_number_counts_only_when_numbers_are_not_verified() {
        let number = PhoneNumber::parse("+41446681800").unwrap();
        let profile = with_primary_phone(&Profile::default(), &number, false);
        assert!(has_value(&profile, "phone_number", false));
        assert!(!has_value(&profile, "phone_number", true));
        let spaced = PhoneNumber::parse("+41 44 668 18 00").unwrap();
        let profile = crate::phone_verification::with_verified_phone(&profile, &spaced);
        assert_eq!(profile.phone_numbers.len(), 1);
        assert!(has_value(&profile, "phone_number", true));
    }

    #[test]
    fn answers_are_checked_and_requested_ones_may_stay_empty() {
        let needs = needs(
            &["birthdate", "phone_number"],
            &["address", "attributes.shoe_size"],
        );
        let settings = ProfilingSettings::default();
        let questions = questions(
            &user(Profile::default()),
            &needs,
            &schema(),
            &[],
            settings,
            false,
            NOW,
        );
        let form = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect()
        };
        let today = NOW.date();
        let errors = read_answers(
            &questions,
            &form(&[
                ("birthdate", "2030-01-01"),
                ("phone_number", "12"),
                ("address.locality", "Bern"),
            ]),
            today,
        )
        .unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 3, "{text:?}");
        assert!(text[0].starts_with("birthdate: a date in the past"));
        assert!(text[1].starts_with("phone_number:"));
        assert!(text[2].starts_with("address: street, city and country"));
        let answers = read_answers(
            &questions,
            &form(&[
                ("birthdate", " 1990-05-17 "),
                ("phone_number", "+41 44 668 18 00"),
                ("attributes.shoe_size", "42"),
            ]),
            today,
        )
        .unwrap();
        assert_eq!(answers.skipped, ["address"]);
        assert_eq!(
            answers.phone().map(PhoneNumber::as_str),
            Some("+41446681800")
        );
        let profile = apply(&Profile::default(), &answers, false);
        assert_eq!(profile.birthdate.as_deref(), Some("1990-05-17"));
        assert!(profile.phone_numbers.is_empty());
        assert_eq!(profile.attributes["shoe_size"], serde_json::json!(42));
        let with_phone = apply(&Profile::default(), &answers, true);
        assert!(!with_phone.phone_numbers[0].verified);
        let required = read_answers(&questions, &form(&[]), today).unwrap_err();
        assert_eq!(required.len(), 2);
    }
}
