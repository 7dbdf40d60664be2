//! SCIM filters mapped onto the domain's search terms: [`user_filter`] turns a filter on
//! `/Users` into the [`UserFilter`] the store compiles to SQL, [`group_query`] a filter on
//! `/Groups` into the few [`GroupQuery`] terms the group store supports.
//!
//! The reference semantics are [`crate::filter::eval`]'s, over the User that Tessera
//! serves: some value of a multi-valued attribute matches, `ne` is `not eq`, and a value of
//! another type than the attribute's never equals (so `ne` holds). What the store cannot
//! answer exactly (derived or unstored attributes, `and` inside `groups[…]`) is refused as
//! `invalidFilter` rather than answered approximately. Errors name attribute paths, never
//! values.

use super::user::SCIM_SOURCE;
use crate::attr_path::AttrPath;
use crate::error::ScimError;
use crate::filter::{CompValue, CompareOp, Filter, eval, qualify};
use crate::schema::ResourceSchemas;
use crate::urn;
use tessera_core::attributes::{AttributeSchema, AttributeType};
use tessera_core::group::{GroupQuery, NameMatch};
use tessera_core::user_filter::{
    self as domain, AddressField, Condition, ElementFilter, EmailField, EnterpriseField,
    FilterValue, MAX_CONDITIONS, MAX_DEPTH, PhoneField, Test, UserField, UserFilter,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Maps a filter on `/Users` onto the domain's [`UserFilter`].
///
/// `schemas` must be [`ResourceSchemas::user`] built from the same tenant's `custom`
/// attributes: paths resolve against `schemas` (unprefixed names: core first, then the
/// extensions), custom attributes are then typed by `custom`. Every error is
/// `invalidFilter`: an unknown or unfilterable attribute, an operator its type does not
/// have, a date that is not RFC 3339, a filter over the domain's size limits.
pub fn user_filter(
    filter: &Filter,
    schemas: &ResourceSchemas,
    custom: &AttributeSchema,
) -> Result<UserFilter, ScimError> {
    let mapped = Users { schemas, custom }.filter(filter)?;
    // Some attributes expand (`name pr` is five conditions), so the domain's limits can be
    // exceeded by a filter the parser accepted; refuse it here rather than in the store.
    mapped.check_limits().map_err(|_| {
        ScimError::invalid_filter(format!(
            "the filter is too large: at most {MAX_CONDITIONS} conditions nested at most \
             {MAX_DEPTH} deep, once attributes such as 'name' are expanded"
        ))
    })?;
    Ok(mapped)
}

/// Maps a filter on `/Groups` onto a [`GroupQuery`]: `displayName` `eq`, `sw` or `co`
/// (ignoring case) and `externalId` `eq` (exactly), at most one of each, joined by `and`.
/// Anything else is `invalidFilter`, with a detail saying what is supported.
pub fn group_query(filter: &Filter) -> Result<GroupQuery, ScimError> {
    let unsupported = || {
        ScimError::invalid_filter(
            "Groups can be filtered only by displayName (eq, sw or co, ignoring case) and \
             externalId (eq), at most one of each, joined by 'and'",
        )
    };
    let mut query = GroupQuery::default();
    for term in operands(filter, Junction::And) {
        let Filter::Compare {
            attr,
            op,
            value: CompValue::String(value),
        } = term
        else {
            return Err(unsupported());
        };
        let in_core = attr.sub.is_none()
            && attr
                .urn
                .as_deref()
                .is_none_or(|uri| uri.eq_ignore_ascii_case(urn::CORE_GROUP));
        if in_core && attr.name.eq_ignore_ascii_case("displayName") {
            let how = match op {
                CompareOp::Eq => NameMatch::Equals,
                CompareOp::Sw => NameMatch::StartsWith,
                CompareOp::Co => NameMatch::Contains,
                _ => return Err(unsupported()),
            };
            if query.display_name.replace((how, value.clone())).is_some() {
                return Err(unsupported());
            }
        } else if in_core && attr.name.eq_ignore_ascii_case("externalId") && *op == CompareOp::Eq {
            if query.external_id.replace(value.clone()).is_some() {
                return Err(unsupported());
            }
        } else {
            return Err(unsupported());
        }
    }
    Ok(query)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Junction {
    And,
    Or,
}

/// The operands of a chain of `and` (or of `or`), left to right. The parser nests chains to
/// the left (`a and b and c` is `And(And(a, b), c)`); the domain takes one list.
fn operands(filter: &Filter, junction: Junction) -> Vec<&Filter> {
    fn collect<'f>(filter: &'f Filter, junction: Junction, out: &mut Vec<&'f Filter>) {
        match (filter, junction) {
            (Filter::And(left, right), Junction::And) | (Filter::Or(left, right), Junction::Or) => {
                collect(left, junction, out);
                collect(right, junction, out);
            }
            (other, _) => out.push(other),
        }
    }
    let mut out = Vec::new();
    collect(filter, junction, &mut out);
    out
}

/// The kind of value an attribute holds: how a comparison value is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Bool,
    Number,
    Time,
}

/// What a SCIM attribute path stands for in the domain.
#[derive(Debug)]
enum Target {
    /// A single-valued field of the user.
    Field(UserField, Kind),
    /// `active`: the status is not `disabled`.
    Active,
    /// `meta.resourceType`: always `User`.
    ResourceType,
    Email(EmailField, Kind),
    Phone(PhoneField, Kind),
    Address(AddressField, Kind),
    /// `groups[.value]` (a group id) or `groups.display`, text.
    Group(UserField),
    /// A complex attribute without a `value` (`name`, `addresses`, `meta`): it can only be
    /// tested with `pr`, which is this filter.
    Complex(UserFilter),
}

/// A resolved path and whether its text compares case-exactly.
struct Resolved {
    target: Target,
    case_exact: bool,
}

/// A field of one element of a multi-valued attribute (email, phone number, address).
trait Element: Copy {
    /// The field `target` names, if it is one of this element's.
    fn field(target: &Target) -> Option<(Self, Kind)>;
    /// "Some element satisfies `filter`."
    fn some(filter: ElementFilter<Self>) -> UserFilter;
}

impl Element for EmailField {
    fn field(target: &Target) -> Option<(Self, Kind)> {
        match target {
            Target::Email(field, kind) => Some((*field, *kind)),
            _ => None,
        }
    }

    fn some(filter: ElementFilter<Self>) -> UserFilter {
        UserFilter::Email(filter)
    }
}

impl Element for PhoneField {
    fn field(target: &Target) -> Option<(Self, Kind)> {
        match target {
            Target::Phone(field, kind) => Some((*field, *kind)),
            _ => None,
        }
    }

    fn some(filter: ElementFilter<Self>) -> UserFilter {
        UserFilter::Phone(filter)
    }
}

impl Element for AddressField {
    fn field(target: &Target) -> Option<(Self, Kind)> {
        match target {
            Target::Address(field, kind) => Some((*field, *kind)),
            _ => None,
        }
    }

    fn some(filter: ElementFilter<Self>) -> UserFilter {
        UserFilter::Address(filter)
    }
}

const NAME_PARTS: [UserField; 5] = [
    UserField::GivenName,
    UserField::FamilyName,
    UserField::MiddleName,
    UserField::HonorificPrefix,
    UserField::HonorificSuffix,
];

const ADDRESS_FIELDS: [AddressField; 8] = [
    AddressField::Kind,
    AddressField::Formatted,
    AddressField::StreetAddress,
    AddressField::Locality,
    AddressField::Region,
    AddressField::PostalCode,
    AddressField::Country,
    AddressField::Primary,
];

struct Users<'a> {
    schemas: &'a ResourceSchemas,
    custom: &'a AttributeSchema,
}

impl Users<'_> {
    fn filter(&self, filter: &Filter) -> Result<UserFilter, ScimError> {
        match filter {
            Filter::And(..) => self.each(filter, Junction::And).map(UserFilter::And),
            Filter::Or(..) => self.each(filter, Junction::Or).map(UserFilter::Or),
            Filter::Not(inner) => Ok(negate(self.filter(inner)?)),
            Filter::Present(attr) => Ok(present(self.resolve(attr)?.target)),
            Filter::Compare { attr, op, value } => self.compare(attr, *op, value),
            Filter::ValuePath { attr, filter } => self.value_path(attr, filter),
        }
    }

    fn each(&self, filter: &Filter, junction: Junction) -> Result<Vec<UserFilter>, ScimError> {
        operands(filter, junction)
            .into_iter()
            .map(|operand| self.filter(operand))
            .collect()
    }

    fn compare(
        &self,
        attr: &AttrPath,
        op: CompareOp,
        value: &CompValue,
    ) -> Result<UserFilter, ScimError> {
        let Resolved { target, case_exact } = self.resolve(attr)?;
        if let Some(presence) = null_comparison(attr, op, value)? {
            let present = present(target);
            return Ok(if presence { present } else { negate(present) });
        }
        Ok(match target {
            Target::Field(field, kind) => match typed(attr, kind, op, value)? {
                Some(value) => UserFilter::Condition(comparison(field, op, value, case_exact)),
                None => constant(op),
            },
            Target::Active => match typed(attr, Kind::Bool, op, value)? {
                Some(FilterValue::Bool(wanted)) => {
                    let disabled = UserFilter::Condition(
                        Condition::compare(
                            UserField::Status,
                            domain::CompareOp::Eq,
                            FilterValue::Text("disabled".to_owned()),
                        )
                        .exact(),
                    );
                    // `eq true` and `ne false` ask for active users.
                    if wanted == (op == CompareOp::Eq) {
                        negate(disabled)
                    } else {
                        disabled
                    }
                }
                _ => constant(op),
            },
            Target::ResourceType => {
                let actual = serde_json::Value::String("User".to_owned());
                let holds = match op {
                    CompareOp::Ne => !eval::compare(&actual, CompareOp::Eq, value, case_exact),
                    _ => eval::compare(&actual, op, value, case_exact),
                };
                if holds { UserFilter::all() } else { never() }
            }
            Target::Email(field, kind) => {
                some_element(field, op, typed(attr, kind, op, value)?, case_exact)
            }
            Target::Phone(field, kind) => {
                some_element(field, op, typed(attr, kind, op, value)?, case_exact)
            }
            Target::Address(field, kind) => {
                some_element(field, op, typed(attr, kind, op, value)?, case_exact)
            }
            Target::Group(field) => {
                // Group ids are UUIDs: ordering or substrings of them mean nothing.
                if field == UserField::GroupId && !matches!(op, CompareOp::Eq | CompareOp::Ne) {
                    return Err(ScimError::invalid_filter(format!(
                        "'{attr}' compares only with eq, ne and pr"
                    )));
                }
                some_value(op, typed(attr, Kind::Text, op, value)?, |op, value| {
                    UserFilter::Condition(comparison(field.clone(), op, value, case_exact))
                })
            }
            Target::Complex(_) => {
                return Err(ScimError::invalid_filter(format!(
                    "'{attr}' is complex: compare one of its sub-attributes"
                )));
            }
        })
    }

    /// `attr[filter]`.
    fn value_path(&self, attr: &AttrPath, filter: &Filter) -> Result<UserFilter, ScimError> {
        let name = match self.schemas.resolve(attr) {
            Some((schema, top))
                if attr.sub.is_none() && schema.eq_ignore_ascii_case(urn::CORE_USER) =>
            {
                top.name.as_str()
            }
            _ => "",
        };
        match name {
            "emails" => self.elements(attr, filter).map(UserFilter::Email),
            "phoneNumbers" => self.elements(attr, filter).map(UserFilter::Phone),
            "addresses" => self.elements(attr, filter).map(UserFilter::Address),
            "groups" => self.group_element(attr, filter),
            _ => Err(ScimError::invalid_filter(format!(
                "'{attr}[…]': value filters apply to emails, phoneNumbers, addresses and groups"
            ))),
        }
    }

    /// The filter inside `parent[…]`, on one element.
    fn elements<F: Element>(
        &self,
        parent: &AttrPath,
        filter: &Filter,
    ) -> Result<ElementFilter<F>, ScimError> {
        let each = |junction| {
            operands(filter, junction)
                .into_iter()
                .map(|operand| self.elements::<F>(parent, operand))
                .collect::<Result<Vec<_>, _>>()
        };
        match filter {
            Filter::And(..) => each(Junction::And).map(ElementFilter::And),
            Filter::Or(..) => each(Junction::Or).map(ElementFilter::Or),
            Filter::Not(inner) => Ok(negate_element(self.elements(parent, inner)?)),
            Filter::Present(attr) => {
                let (field, _, _) = self.element_field::<F>(parent, attr)?;
                Ok(ElementFilter::Condition(Condition::new(
                    field,
                    Test::Present,
                )))
            }
            Filter::Compare { attr, op, value } => {
                let (field, kind, case_exact) = self.element_field::<F>(parent, attr)?;
                let qualified = qualify(parent, attr);
                if let Some(presence) = null_comparison(&qualified, *op, value)? {
                    let present = ElementFilter::Condition(Condition::new(field, Test::Present));
                    return Ok(if presence {
                        present
                    } else {
                        negate_element(present)
                    });
                }
                Ok(match typed(&qualified, kind, *op, value)? {
                    Some(value) => {
                        ElementFilter::Condition(comparison(field, *op, value, case_exact))
                    }
                    None if *op == CompareOp::Ne => ElementFilter::And(Vec::new()),
                    None => ElementFilter::Or(Vec::new()),
                })
            }
            Filter::ValuePath { attr, .. } => Err(ScimError::invalid_filter(format!(
                "'{attr}[…]' inside '{parent}[…]': value filters do not nest"
            ))),
        }
    }

    /// The element field a bare name inside `parent[…]` names, its kind and case-exactness.
    fn element_field<F: Element>(
        &self,
        parent: &AttrPath,
        attr: &AttrPath,
    ) -> Result<(F, Kind, bool), ScimError> {
        if !attr.is_simple() {
            return Err(ScimError::invalid_filter(format!(
                "inside '{parent}[…]', name a sub-attribute of '{parent}' alone, not '{attr}'"
            )));
        }
        let qualified = qualify(parent, attr);
        let Resolved { target, case_exact } = self.resolve(&qualified)?;
        F::field(&target)
            .map(|(field, kind)| (field, kind, case_exact))
            .ok_or_else(|| unknown(&qualified))
    }

    /// `groups[…]`. The domain has no element filter over memberships, but "some group
    /// matches a or b" is "some group matches a, or some matches b", so conditions joined by
    /// `or` map exactly; `and`, `not`, `ne` and `null` inside would not, and are refused.
    fn group_element(&self, parent: &AttrPath, filter: &Filter) -> Result<UserFilter, ScimError> {
        match filter {
            Filter::Or(..) => operands(filter, Junction::Or)
                .into_iter()
                .map(|operand| self.group_element(parent, operand))
                .collect::<Result<Vec<_>, _>>()
                .map(UserFilter::Or),
            Filter::Present(attr) if attr.is_simple() => {
                Ok(present(self.resolve(&qualify(parent, attr))?.target))
            }
            Filter::Compare { attr, op, value }
                if attr.is_simple() && *op != CompareOp::Ne && *value != CompValue::Null =>
            {
                self.compare(&qualify(parent, attr), *op, value)
            }
            _ => Err(ScimError::invalid_filter(format!(
                "inside '{parent}[…]' Tessera supports conditions on value or display joined \
                 by 'or', without 'and', 'not', 'ne' or null"
            ))),
        }
    }

    /// What `attr` stands for, and whether its text compares case-exactly.
    fn resolve(&self, attr: &AttrPath) -> Result<Resolved, ScimError> {
        let (schema, top) = self
            .schemas
            .resolve(attr)
            .ok_or_else(|| self.unresolved(attr))?;
        let sub = match &attr.sub {
            Some(name) => Some(top.sub_attribute(name).ok_or_else(|| unknown(attr))?),
            None => None,
        };
        // A complex value compares by its `value` sub-attribute, as in `eval`.
        let leaf = sub.or_else(|| top.sub_attribute("value")).unwrap_or(top);
        let (name, sub) = (top.name.as_str(), sub.map(|sub| sub.name.as_str()));
        let target = if schema.eq_ignore_ascii_case(urn::CORE_USER) {
            core_target(attr, name, sub)?
        } else if schema.eq_ignore_ascii_case(urn::ENTERPRISE_USER) {
            enterprise_target(attr, name, sub)?
        } else if schema.eq_ignore_ascii_case(urn::TESSERA_USER) {
            self.tessera_target(attr, name, sub)?
        } else {
            return Err(unknown(attr));
        };
        Ok(Resolved {
            target,
            case_exact: leaf.is_case_exact(),
        })
    }

    /// Why `attr` is not in the schemas: `json` custom attributes have no SCIM type, so the
    /// schemas leave them out, but the client deserves to know they exist.
    fn unresolved(&self, attr: &AttrPath) -> ScimError {
        let json = attr.sub.is_none()
            && attr
                .urn
                .as_deref()
                .is_none_or(|uri| uri.eq_ignore_ascii_case(urn::TESSERA_USER))
            && self.custom.attributes.iter().any(|definition| {
                definition.kind == AttributeType::Json
                    && definition.name.eq_ignore_ascii_case(&attr.name)
            });
        if json {
            refused(attr, "JSON attributes are not searchable")
        } else {
            unknown(attr)
        }
    }

    fn tessera_target(
        &self,
        attr: &AttrPath,
        name: &str,
        sub: Option<&str>,
    ) -> Result<Target, ScimError> {
        match (name, sub) {
            ("status", None) => Ok(Target::Field(UserField::Status, Kind::Text)),
            ("analyticsId", None) => Ok(Target::Field(UserField::AnalyticsId, Kind::Text)),
            ("emailPurposes", _) => Err(refused(attr, "email purposes are not searchable")),
            (name, None) => {
                let definition = self
                    .custom
                    .attributes
                    .iter()
                    .find(|definition| definition.name.eq_ignore_ascii_case(name))
                    .ok_or_else(|| unknown(attr))?;
                let kind = match definition.kind {
                    AttributeType::Json => {
                        return Err(refused(attr, "JSON attributes are not searchable"));
                    }
                    AttributeType::Number => Kind::Number,
                    AttributeType::Boolean => Kind::Bool,
                    AttributeType::String | AttributeType::Date | AttributeType::Enum => Kind::Text,
                };
                Ok(Target::Field(
                    UserField::Attribute(definition.name.clone()),
                    kind,
                ))
            }
            _ => Err(unknown(attr)),
        }
    }
}

fn core_target(attr: &AttrPath, name: &str, sub: Option<&str>) -> Result<Target, ScimError> {
    let text = |field| Ok(Target::Field(field, Kind::Text));
    match (name, sub) {
        ("id", None) => text(UserField::Id),
        ("externalId", None) => text(UserField::ExternalId {
            source: SCIM_SOURCE.to_owned(),
        }),
        ("userName", None) => text(UserField::Username),
        // `name.formatted` is derived from the parts, so `name` is present when a part is.
        ("name", None) => Ok(Target::Complex(UserFilter::Or(
            NAME_PARTS.into_iter().map(UserFilter::present).collect(),
        ))),
        ("name", Some("givenName")) => text(UserField::GivenName),
        ("name", Some("familyName")) => text(UserField::FamilyName),
        ("name", Some("middleName")) => text(UserField::MiddleName),
        ("name", Some("honorificPrefix")) => text(UserField::HonorificPrefix),
        ("name", Some("honorificSuffix")) => text(UserField::HonorificSuffix),
        ("name", Some(_)) => Err(refused(
            attr,
            "it is derived from the other parts of the name; filter on those",
        )),
        ("displayName", None) => text(UserField::DisplayName),
        ("nickName", None) => text(UserField::Nickname),
        ("profileUrl", None) => text(UserField::ProfileUrl),
        ("title", None) => text(UserField::Title),
        ("userType", None) => text(UserField::UserType),
        ("preferredLanguage", None) => text(UserField::PreferredLanguage),
        ("locale", None) => text(UserField::Locale),
        ("timezone", None) => text(UserField::Zoneinfo),
        ("active", None) => Ok(Target::Active),
        ("password", _) => Err(refused(attr, "it is never returned")),
        ("emails", None | Some("value")) => Ok(Target::Email(EmailField::Value, Kind::Text)),
        ("emails", Some("type")) => Ok(Target::Email(EmailField::Kind, Kind::Text)),
        ("emails", Some("primary")) => Ok(Target::Email(EmailField::Primary, Kind::Bool)),
        ("phoneNumbers", None | Some("value")) => Ok(Target::Phone(PhoneField::Value, Kind::Text)),
        ("phoneNumbers", Some("type")) => Ok(Target::Phone(PhoneField::Kind, Kind::Text)),
        ("phoneNumbers", Some("primary")) => Ok(Target::Phone(PhoneField::Primary, Kind::Bool)),
        ("addresses", None) => Ok(Target::Complex(AddressField::some(ElementFilter::Or(
            ADDRESS_FIELDS
                .into_iter()
                .map(|field| ElementFilter::Condition(Condition::new(field, Test::Present)))
                .collect(),
        )))),
        ("addresses", Some(sub)) => address_field(sub)
            .map(|field| {
                let kind = if field == AddressField::Primary {
                    Kind::Bool
                } else {
                    Kind::Text
                };
                Target::Address(field, kind)
            })
            .ok_or_else(|| unknown(attr)),
        ("groups", None | Some("value")) => Ok(Target::Group(UserField::GroupId)),
        ("groups", Some("display")) => Ok(Target::Group(UserField::GroupDisplayName)),
        ("groups", Some(_)) => Err(refused(
            attr,
            "only groups.value and groups.display are searchable",
        )),
        ("meta", None) => Ok(Target::Complex(UserFilter::all())),
        ("meta", Some("created")) => Ok(Target::Field(UserField::Created, Kind::Time)),
        ("meta", Some("lastModified")) => Ok(Target::Field(UserField::Updated, Kind::Time)),
        ("meta", Some("resourceType")) => Ok(Target::ResourceType),
        ("meta", Some(_)) => Err(refused(
            attr,
            "only meta.created, meta.lastModified and meta.resourceType are searchable",
        )),
        _ => Err(refused(attr, "Tessera cannot search it")),
    }
}

fn address_field(sub: &str) -> Option<AddressField> {
    Some(match sub {
        "type" => AddressField::Kind,
        "formatted" => AddressField::Formatted,
        "streetAddress" => AddressField::StreetAddress,
        "locality" => AddressField::Locality,
        "region" => AddressField::Region,
        "postalCode" => AddressField::PostalCode,
        "country" => AddressField::Country,
        "primary" => AddressField::Primary,
        _ => return None,
    })
}

fn enterprise_target(attr: &AttrPath, name: &str, sub: Option<&str>) -> Result<Target, ScimError> {
    let field = match (name, sub) {
        ("employeeNumber", None) => EnterpriseField::EmployeeNumber,
        ("costCenter", None) => EnterpriseField::CostCenter,
        ("organization", None) => EnterpriseField::Organization,
        ("division", None) => EnterpriseField::Division,
        ("department", None) => EnterpriseField::Department,
        ("manager", None | Some("value")) => EnterpriseField::Manager,
        ("manager", Some(_)) => return Err(refused(attr, "only manager.value is searchable")),
        _ => return Err(unknown(attr)),
    };
    Ok(Target::Field(UserField::Enterprise(field), Kind::Text))
}

fn unknown(attr: &AttrPath) -> ScimError {
    ScimError::invalid_filter(format!("no attribute '{attr}' in the User schemas"))
}

fn refused(attr: &AttrPath, reason: &str) -> ScimError {
    ScimError::invalid_filter(format!("'{attr}' cannot be used in a filter: {reason}"))
}

/// `x eq null` is "x is absent" (`Some(false)`: not present), `x ne null` is "x is present"
/// (`Some(true)`); other operators take no null. `None`: the value is not null.
fn null_comparison(
    attr: &AttrPath,
    op: CompareOp,
    value: &CompValue,
) -> Result<Option<bool>, ScimError> {
    match (value, op) {
        (CompValue::Null, CompareOp::Eq) => Ok(Some(false)),
        (CompValue::Null, CompareOp::Ne) => Ok(Some(true)),
        (CompValue::Null, _) => Err(ScimError::invalid_filter(format!(
            "'{attr}': null compares only with eq and ne"
        ))),
        _ => Ok(None),
    }
}

/// The comparison value typed for an attribute of `kind`, or `None` when it has another
/// type: a comparison that never holds (so its `ne` always does), as in `eval`. Booleans
/// know only `eq` and `ne` and dates no substrings (RFC 7644 §3.4.2.2): those are errors.
fn typed(
    attr: &AttrPath,
    kind: Kind,
    op: CompareOp,
    value: &CompValue,
) -> Result<Option<FilterValue>, ScimError> {
    let equality = matches!(op, CompareOp::Eq | CompareOp::Ne);
    if (kind == Kind::Bool || matches!(value, CompValue::Bool(_))) && !equality {
        return Err(ScimError::invalid_filter(format!(
            "'{attr}': booleans compare only with eq and ne"
        )));
    }
    if kind == Kind::Time && op.is_substring() {
        return Err(ScimError::invalid_filter(format!(
            "'{attr}': date-times compare with eq, ne, gt, ge, lt, le and pr"
        )));
    }
    Ok(match (kind, value) {
        (Kind::Text, CompValue::String(text)) => Some(FilterValue::Text(text.clone())),
        (Kind::Bool, CompValue::Bool(wanted)) => Some(FilterValue::Bool(*wanted)),
        (Kind::Number, CompValue::Number(number)) => number.as_f64().map(FilterValue::Number),
        (Kind::Time, CompValue::String(text)) => {
            let at = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
                ScimError::invalid_filter(format!(
                    "'{attr}' compares with an RFC 3339 date-time, such as 2024-05-01T12:00:00Z"
                ))
            })?;
            Some(FilterValue::Timestamp(at))
        }
        _ => None,
    })
}

/// `attr op value` on a multi-valued attribute: some value matches; `ne` is "no value
/// equals". `matching(op, value)` is "some value compares so".
fn some_value(
    op: CompareOp,
    value: Option<FilterValue>,
    matching: impl Fn(CompareOp, FilterValue) -> UserFilter,
) -> UserFilter {
    match value {
        None => constant(op),
        Some(value) if op == CompareOp::Ne => negate(matching(CompareOp::Eq, value)),
        Some(value) => matching(op, value),
    }
}

fn some_element<F: Element>(
    field: F,
    op: CompareOp,
    value: Option<FilterValue>,
    case_exact: bool,
) -> UserFilter {
    some_value(op, value, |op, value| {
        F::some(ElementFilter::Condition(comparison(
            field, op, value, case_exact,
        )))
    })
}

fn comparison<F>(field: F, op: CompareOp, value: FilterValue, case_exact: bool) -> Condition<F> {
    let condition = Condition::compare(field, domain_op(op), value);
    if case_exact {
        condition.exact()
    } else {
        condition
    }
}

fn present(target: Target) -> UserFilter {
    match target {
        Target::Field(field, _) | Target::Group(field) => UserFilter::present(field),
        Target::Active | Target::ResourceType => UserFilter::all(),
        Target::Email(field, _) => present_element(field),
        Target::Phone(field, _) => present_element(field),
        Target::Address(field, _) => present_element(field),
        Target::Complex(presence) => presence,
    }
}

fn present_element<F: Element>(field: F) -> UserFilter {
    F::some(ElementFilter::Condition(Condition::new(
        field,
        Test::Present,
    )))
}

/// A comparison with a value of the wrong type: `ne` holds for every user, the rest for
/// none.
fn constant(op: CompareOp) -> UserFilter {
    if op == CompareOp::Ne {
        UserFilter::all()
    } else {
        never()
    }
}

fn never() -> UserFilter {
    UserFilter::Or(Vec::new())
}

/// `not`, folding constants and double negations (the domain's logic is two-valued).
fn negate(filter: UserFilter) -> UserFilter {
    match filter {
        UserFilter::And(items) if items.is_empty() => never(),
        UserFilter::Or(items) if items.is_empty() => UserFilter::all(),
        UserFilter::Not(inner) => *inner,
        other => UserFilter::negate(other),
    }
}

fn negate_element<F>(filter: ElementFilter<F>) -> ElementFilter<F> {
    match filter {
        ElementFilter::And(items) if items.is_empty() => ElementFilter::Or(items),
        ElementFilter::Or(items) if items.is_empty() => ElementFilter::And(items),
        ElementFilter::Not(inner) => *inner,
        other => ElementFilter::Not(Box::new(other)),
    }
}

fn domain_op(op: CompareOp) -> domain::CompareOp {
    match op {
        CompareOp::Eq => domain::CompareOp::Eq,
        CompareOp::Ne => domain::CompareOp::Ne,
        CompareOp::Co => domain::CompareOp::Co,
        CompareOp::Sw => domain::CompareOp::Sw,
        CompareOp::Ew => domain::CompareOp::Ew,
        CompareOp::Gt => domain::CompareOp::Gt,
        CompareOp::Ge => domain::CompareOp::Ge,
        CompareOp::Lt => domain::CompareOp::Lt,
        CompareOp::Le => domain::CompareOp::Le,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScimType;
    use crate::mapping::custom_attributes;
    use crate::schema::{AttributeType as ScimKind, CustomAttribute, tessera_user_extension};
    use tessera_core::attributes::AttributeDefinition;
    use tessera_core::user_filter::CompareOp as Op;

    const ENTERPRISE: &str = urn::ENTERPRISE_USER;
    const TESSERA: &str = urn::TESSERA_USER;

    fn custom() -> AttributeSchema {
        let attribute = |name: &str, kind, enum_values: &[&str]| AttributeDefinition {
            name: name.to_owned(),
            kind,
            required: false,
            personal_data: true,
            user_editable: false,
            description: None,
            enum_values: enum_values.iter().map(|v| (*v).to_owned()).collect(),
        };
        AttributeSchema {
            attributes: vec![
                attribute("loyaltyTier", AttributeType::Enum, &["gold", "silver"]),
                attribute("score", AttributeType::Number, &[]),
                attribute("newsletter", AttributeType::Boolean, &[]),
                attribute("birthday", AttributeType::Date, &[]),
                attribute("prefs", AttributeType::Json, &[]),
            ],
        }
    }

    fn schemas() -> ResourceSchemas {
        crate::mapping::user_schemas(&custom())
    }

    fn try_map(filter: &Filter) -> Result<UserFilter, ScimError> {
        user_filter(filter, &schemas(), &custom())
    }

    fn map(text: &str) -> UserFilter {
        try_map(&Filter::parse(text).unwrap()).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// The refusal's detail, after checking it is `invalidFilter`.
    fn refused_filter(filter: &Filter) -> String {
        let error = try_map(filter).unwrap_err();
        assert_eq!(error.scim_type, Some(ScimType::InvalidFilter), "{filter:?}");
        error.detail
    }

    fn refusal(text: &str) -> String {
        refused_filter(&Filter::parse(text).unwrap())
    }

    fn text(field: UserField, op: Op, value: &str) -> UserFilter {
        UserFilter::condition(field, op, FilterValue::Text(value.into()))
    }

    fn exact(field: UserField, op: Op, value: &str) -> UserFilter {
        UserFilter::Condition(
            Condition::compare(field, op, FilterValue::Text(value.into())).exact(),
        )
    }

    fn email(field: EmailField, op: Op, value: FilterValue) -> ElementFilter<EmailField> {
        ElementFilter::condition(field, op, value)
    }

    fn element_present<F>(field: F) -> ElementFilter<F> {
        ElementFilter::Condition(Condition::new(field, Test::Present))
    }

    fn work() -> FilterValue {
        FilterValue::Text("work".into())
    }

    fn never() -> UserFilter {
        UserFilter::Or(Vec::new())
    }

    #[test]
    fn maps_single_valued_core_attributes_ignoring_the_case_of_names() {
        let cases = [
            ("userName", UserField::Username),
            ("USERNAME", UserField::Username),
            ("name.givenName", UserField::GivenName),
            ("Name.FamilyName", UserField::FamilyName),
            ("name.middleName", UserField::MiddleName),
            ("name.honorificPrefix", UserField::HonorificPrefix),
            ("name.honorificSuffix", UserField::HonorificSuffix),
            ("displayName", UserField::DisplayName),
            ("nickName", UserField::Nickname),
            ("profileUrl", UserField::ProfileUrl),
            ("title", UserField::Title),
            ("userType", UserField::UserType),
            ("preferredLanguage", UserField::PreferredLanguage),
            ("locale", UserField::Locale),
            ("timezone", UserField::Zoneinfo),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                UserField::Username,
            ),
        ];
        for (attr, field) in cases {
            assert_eq!(
                map(&format!(r#"{attr} sw "Ab""#)),
                text(field, Op::Sw, "Ab"),
                "{attr}"
            );
        }
        assert_eq!(
            map(r#"userName ne "x""#),
            text(UserField::Username, Op::Ne, "x")
        );
        assert_eq!(map("title pr"), UserFilter::present(UserField::Title));
    }

    #[test]
    fn case_exactness_comes_from_the_schemas() {
        assert_eq!(map(r#"id eq "A1""#), exact(UserField::Id, Op::Eq, "A1"));
        let scim = || UserField::ExternalId {
            source: "scim".into(),
        };
        assert_eq!(map(r#"externalId eq "E-1""#), exact(scim(), Op::Eq, "E-1"));
        assert_eq!(map(r#"externalId co "E""#), exact(scim(), Op::Co, "E"));
        assert_eq!(
            map(r#"analyticsId eq "Ga1""#),
            exact(UserField::AnalyticsId, Op::Eq, "Ga1")
        );
        assert_eq!(
            map(r#"status eq "Disabled""#),
            text(UserField::Status, Op::Eq, "Disabled")
        );
    }

    #[test]
    fn active_is_derived_from_the_status() {
        let disabled = exact(UserField::Status, Op::Eq, "disabled");
        let enabled = UserFilter::negate(disabled.clone());
        assert_eq!(map("active eq true"), enabled);
        assert_eq!(map("ACTIVE eq false"), disabled);
        assert_eq!(map("active ne true"), disabled);
        assert_eq!(map("active ne false"), enabled);
        assert_eq!(map("active pr"), UserFilter::all());
        assert_eq!(map("active eq null"), never());
        assert_eq!(map("active ne null"), UserFilter::all());
        // A value of another type never equals a boolean (RFC 7644, as `eval`).
        assert_eq!(map(r#"active eq "true""#), never());
        assert_eq!(map(r#"active ne "yes""#), UserFilter::all());
        refusal(r#"active co "t""#);
        let ordered = Filter::compare(
            AttrPath::new("active"),
            CompareOp::Gt,
            CompValue::Bool(true),
        );
        assert!(refused_filter(&ordered).contains("booleans"));
    }

    #[test]
    fn null_means_absent() {
        let absent = UserFilter::negate(UserFilter::present(UserField::Nickname));
        assert_eq!(map("nickName eq null"), absent);
        assert_eq!(
            map("nickName ne null"),
            UserFilter::present(UserField::Nickname)
        );
        assert_eq!(
            map("emails eq null"),
            UserFilter::negate(UserFilter::Email(element_present(EmailField::Value)))
        );
        assert_eq!(
            map("emails.type ne null"),
            UserFilter::Email(element_present(EmailField::Kind))
        );
        assert_eq!(
            map("emails[type eq null]"),
            UserFilter::Email(ElementFilter::Not(Box::new(element_present(
                EmailField::Kind
            ))))
        );
        assert_eq!(
            map("meta.created eq null"),
            UserFilter::negate(UserFilter::present(UserField::Created))
        );
        // The parser refuses other operators with null; a hand-built filter is refused here.
        let hand_built = Filter::compare(AttrPath::new("nickName"), CompareOp::Gt, CompValue::Null);
        assert!(refused_filter(&hand_built).contains("null"));
        let inside = Filter::value_path(
            AttrPath::new("emails"),
            Filter::compare(AttrPath::new("value"), CompareOp::Co, CompValue::Null),
        );
        assert!(refused_filter(&inside).contains("emails.value"));
    }

    #[test]
    fn multi_valued_attributes_match_when_some_value_does() {
        assert_eq!(
            map(r#"emails co "@x""#),
            UserFilter::Email(email(
                EmailField::Value,
                Op::Co,
                FilterValue::Text("@x".into())
            ))
        );
        assert_eq!(
            map(r#"emails.type eq "work""#),
            UserFilter::Email(email(EmailField::Kind, Op::Eq, work()))
        );
        assert_eq!(
            map("emails.primary eq true"),
            UserFilter::Email(email(EmailField::Primary, Op::Eq, FilterValue::Bool(true)))
        );
        // `ne`: no value equals.
        assert_eq!(
            map(r#"emails.type ne "work""#),
            UserFilter::negate(UserFilter::Email(email(EmailField::Kind, Op::Eq, work())))
        );
        assert_eq!(
            map(r#"phoneNumbers eq "+1 555""#),
            UserFilter::Phone(ElementFilter::condition(
                PhoneField::Value,
                Op::Eq,
                FilterValue::Text("+1 555".into())
            ))
        );
        assert_eq!(
            map(r#"phoneNumbers.type eq "mobile""#),
            UserFilter::Phone(ElementFilter::condition(
                PhoneField::Kind,
                Op::Eq,
                FilterValue::Text("mobile".into())
            ))
        );
        assert_eq!(
            map("phoneNumbers.primary pr"),
            UserFilter::Phone(element_present(PhoneField::Primary))
        );
        let address_cases = [
            ("type", AddressField::Kind),
            ("formatted", AddressField::Formatted),
            ("streetAddress", AddressField::StreetAddress),
            ("LOCALITY", AddressField::Locality),
            ("region", AddressField::Region),
            ("postalCode", AddressField::PostalCode),
            ("country", AddressField::Country),
        ];
        for (sub, field) in address_cases {
            assert_eq!(
                map(&format!(r#"addresses.{sub} co "a""#)),
                UserFilter::Address(ElementFilter::condition(
                    field,
                    Op::Co,
                    FilterValue::Text("a".into())
                )),
                "{sub}"
            );
        }
        assert_eq!(
            map("addresses.primary eq false"),
            UserFilter::Address(ElementFilter::condition(
                AddressField::Primary,
                Op::Eq,
                FilterValue::Bool(false)
            ))
        );
        assert_eq!(
            map("emails pr"),
            UserFilter::Email(element_present(EmailField::Value))
        );
        let UserFilter::Address(ElementFilter::Or(parts)) = map("addresses pr") else {
            panic!("addresses pr is some address with some field");
        };
        assert_eq!(parts.len(), 8);
        // A value of another type: `eq` never holds, `ne` always.
        assert_eq!(map("emails.type eq 5"), never());
        assert_eq!(map("emails.type ne 5"), UserFilter::all());
        assert!(refusal(r#"addresses eq "x""#).contains("complex"));
    }

    #[test]
    fn value_filters_hold_for_one_element() {
        assert_eq!(
            map(r#"emails[type eq "work" and value co "@x"]"#),
            UserFilter::Email(ElementFilter::And(vec![
                email(EmailField::Kind, Op::Eq, work()),
                email(EmailField::Value, Op::Co, FilterValue::Text("@x".into())),
            ]))
        );
        assert_eq!(
            map(r#"EMAILS[not (primary eq true) or Type ne "home"]"#),
            UserFilter::Email(ElementFilter::Or(vec![
                ElementFilter::Not(Box::new(email(
                    EmailField::Primary,
                    Op::Eq,
                    FilterValue::Bool(true)
                ))),
                email(EmailField::Kind, Op::Ne, FilterValue::Text("home".into())),
            ]))
        );
        assert_eq!(
            map(r#"addresses[country eq "DE" and primary eq true]"#),
            UserFilter::Address(ElementFilter::And(vec![
                ElementFilter::condition(
                    AddressField::Country,
                    Op::Eq,
                    FilterValue::Text("DE".into())
                ),
                ElementFilter::condition(AddressField::Primary, Op::Eq, FilterValue::Bool(true)),
            ]))
        );
        assert_eq!(
            map(r#"phoneNumbers[type eq "mobile" and value pr]"#),
            UserFilter::Phone(ElementFilter::And(vec![
                ElementFilter::condition(
                    PhoneField::Kind,
                    Op::Eq,
                    FilterValue::Text("mobile".into())
                ),
                element_present(PhoneField::Value),
            ]))
        );
        assert_eq!(
            map("emails[type eq 5 or type ne 5]"),
            UserFilter::Email(ElementFilter::Or(vec![
                ElementFilter::Or(Vec::new()),
                ElementFilter::And(Vec::new()),
            ]))
        );
        assert_eq!(
            map(r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[value ew ".org"]"#),
            UserFilter::Email(email(
                EmailField::Value,
                Op::Ew,
                FilterValue::Text(".org".into())
            ))
        );
        assert!(refusal(r#"emails[display eq "x"]"#).contains("'emails.display'"));
        assert!(refusal(r#"name[givenName eq "x"]"#).contains("value filters apply to"));
        assert!(
            refusal(&format!(r#"{TESSERA}:emailPurposes[value eq "x"]"#)).contains("value filters")
        );
        assert!(refusal(r#"emails[verified eq true]"#).contains("no attribute 'emails.verified'"));
    }

    #[test]
    fn groups_map_to_memberships() {
        let group = "0190a000-0000-7000-8000-000000000001";
        assert_eq!(
            map(&format!(r#"groups eq "{group}""#)),
            text(UserField::GroupId, Op::Eq, group)
        );
        assert_eq!(
            map(&format!(r#"groups.value ne "{group}""#)),
            UserFilter::negate(text(UserField::GroupId, Op::Eq, group))
        );
        assert_eq!(
            map(r#"groups.display co "admin""#),
            text(UserField::GroupDisplayName, Op::Co, "admin")
        );
        assert_eq!(map("groups pr"), UserFilter::present(UserField::GroupId));
        assert_eq!(
            map(&format!(r#"groups[value eq "{group}" or display sw "Ad"]"#)),
            UserFilter::Or(vec![
                text(UserField::GroupId, Op::Eq, group),
                text(UserField::GroupDisplayName, Op::Sw, "Ad"),
            ])
        );
        assert_eq!(
            map("groups[display pr]"),
            UserFilter::present(UserField::GroupDisplayName)
        );
        for unsupported in [
            r#"groups[value eq "a" and display eq "b"]"#,
            r#"groups[display ne "b"]"#,
            r#"groups[not (display eq "b")]"#,
            "groups[display eq null]",
        ] {
            assert!(
                refusal(unsupported).contains("joined by 'or'"),
                "{unsupported}"
            );
        }
        assert!(refusal(r#"groups.value co "01""#).contains("eq, ne and pr"));
        assert!(refusal(r#"groups.type eq "direct""#).contains("groups.value and groups.display"));
        refusal(r#"groups.$ref eq "x""#);
    }

    #[test]
    fn meta_times_are_rfc_3339_timestamps() {
        let at = OffsetDateTime::parse("2024-05-01T12:00:00+02:00", &Rfc3339).unwrap();
        assert_eq!(
            map(r#"meta.created gt "2024-05-01T12:00:00+02:00""#),
            UserFilter::condition(UserField::Created, Op::Gt, FilterValue::Timestamp(at))
        );
        assert_eq!(
            map(r#"Meta.LastModified le "2024-05-01T12:00:00+02:00""#),
            UserFilter::condition(UserField::Updated, Op::Le, FilterValue::Timestamp(at))
        );
        assert_eq!(map("meta.created eq 5"), never());
        let detail = refusal(r#"meta.created eq "yesterday""#);
        assert!(detail.contains("RFC 3339") && !detail.contains("yesterday"));
        assert!(refusal(r#"meta.lastModified sw "2024""#).contains("date-times"));
        assert_eq!(map(r#"meta.resourceType eq "User""#), UserFilter::all());
        assert_eq!(map(r#"meta.resourceType eq "user""#), never());
        assert_eq!(map(r#"meta.resourceType ne "Group""#), UserFilter::all());
        assert_eq!(map(r#"meta.resourceType sw "Us""#), UserFilter::all());
        assert_eq!(map("meta.resourceType pr"), UserFilter::all());
        assert_eq!(map("meta pr"), UserFilter::all());
        refusal(r#"meta.version eq "W/\"1\"""#);
        refusal(r#"meta.location co "x""#);
    }

    #[test]
    fn maps_the_enterprise_extension() {
        let enterprise = |field| UserField::Enterprise(field);
        let cases = [
            (
                format!("{ENTERPRISE}:employeeNumber"),
                EnterpriseField::EmployeeNumber,
            ),
            ("costCenter".to_owned(), EnterpriseField::CostCenter),
            (
                format!("{ENTERPRISE}:organization"),
                EnterpriseField::Organization,
            ),
            ("division".to_owned(), EnterpriseField::Division),
            ("Department".to_owned(), EnterpriseField::Department),
            (format!("{ENTERPRISE}:manager"), EnterpriseField::Manager),
            (
                format!("{ENTERPRISE}:manager.value"),
                EnterpriseField::Manager,
            ),
            ("manager.Value".to_owned(), EnterpriseField::Manager),
        ];
        for (attr, field) in cases {
            assert_eq!(
                map(&format!(r#"{attr} eq "x""#)),
                text(enterprise(field), Op::Eq, "x"),
                "{attr}"
            );
        }
        assert_eq!(
            map("manager pr"),
            UserFilter::present(enterprise(EnterpriseField::Manager))
        );
        assert!(
            refusal(&format!(r#"{ENTERPRISE}:manager.displayName eq "x""#))
                .contains("manager.value")
        );
        assert!(refusal(&format!(r#"{ENTERPRISE}:userName eq "x""#)).contains("no attribute"));
    }

    #[test]
    fn custom_attributes_are_typed_by_the_tenant_schema() {
        let attribute = |name: &str| UserField::Attribute(name.to_owned());
        assert_eq!(
            map(r#"loyaltyTier eq "gold""#),
            text(attribute("loyaltyTier"), Op::Eq, "gold")
        );
        assert_eq!(
            map(&format!(r#"{TESSERA}:LOYALTYTIER sw "g""#)),
            text(attribute("loyaltyTier"), Op::Sw, "g")
        );
        assert_eq!(
            map("score ge 4.5"),
            UserFilter::condition(attribute("score"), Op::Ge, FilterValue::Number(4.5))
        );
        assert_eq!(
            map("newsletter eq true"),
            UserFilter::condition(attribute("newsletter"), Op::Eq, FilterValue::Bool(true))
        );
        assert_eq!(
            map(r#"birthday lt "2000-01-01""#),
            text(attribute("birthday"), Op::Lt, "2000-01-01")
        );
        assert_eq!(map(r#"score eq "5""#), never());
        assert_eq!(map(r#"score ne "5""#), UserFilter::all());
        assert_eq!(map("loyaltyTier eq 5"), never());
        assert_eq!(map("score pr"), UserFilter::present(attribute("score")));
        assert!(refusal(r#"newsletter co "t""#).contains("booleans"));
        assert!(refusal(r#"prefs eq "x""#).contains("JSON"));
        assert!(refusal(&format!("{TESSERA}:Prefs pr")).contains("JSON"));
        // Were a caller to describe a JSON attribute in the schemas, it is still refused.
        let mut described = custom_attributes(&custom());
        described.push(CustomAttribute::new("prefs", ScimKind::String));
        let schemas = ResourceSchemas::user(tessera_user_extension(&described).unwrap());
        let filter = Filter::parse("prefs pr").unwrap();
        let error = user_filter(&filter, &schemas, &custom()).unwrap_err();
        assert!(error.detail.contains("JSON"));
        assert!(refusal("unknownThing pr").contains("no attribute 'unknownThing'"));
    }

    #[test]
    fn refuses_unfilterable_attributes_without_echoing_values() {
        let cases = [
            (r#"name.formatted eq "s3cret""#, "'name.formatted'"),
            (r#"password eq "s3cret""#, "never returned"),
            (
                r#"emails.display eq "s3cret""#,
                "no attribute 'emails.display'",
            ),
            (r#"phoneNumbers.display eq "s3cret""#, "no attribute"),
            (r#"emailPurposes.purposes eq "s3cret""#, "email purposes"),
            (r#"emailPurposes eq "s3cret""#, "email purposes"),
            (r#"name eq "s3cret""#, "complex"),
            (
                r#"userName.first eq "s3cret""#,
                "no attribute 'userName.first'",
            ),
            (r#"nope eq "s3cret""#, "no attribute 'nope'"),
        ];
        for (filter, expected) in cases {
            let detail = refusal(filter);
            assert!(detail.contains(expected), "{filter}: {detail}");
            assert!(!detail.contains("s3cret"), "{filter}: {detail}");
        }
    }

    #[test]
    fn logic_flattens_and_folds_double_negation() {
        let a = || text(UserField::Username, Op::Eq, "a");
        let b = || text(UserField::Title, Op::Eq, "b");
        let c = || text(UserField::Locale, Op::Eq, "c");
        assert_eq!(
            map(r#"userName eq "a" and title eq "b" and locale eq "c""#),
            UserFilter::And(vec![a(), b(), c()])
        );
        assert_eq!(
            map(r#"userName eq "a" or (title eq "b" or locale eq "c")"#),
            UserFilter::Or(vec![a(), b(), c()])
        );
        assert_eq!(
            map(r#"userName eq "a" and (title eq "b" or locale eq "c")"#),
            UserFilter::And(vec![a(), UserFilter::Or(vec![b(), c()])])
        );
        assert_eq!(map(r#"not (userName eq "a")"#), UserFilter::negate(a()));
        assert_eq!(map(r#"not (not (userName eq "a"))"#), a());
        assert_eq!(
            map("name pr"),
            UserFilter::Or(NAME_PARTS.into_iter().map(UserFilter::present).collect())
        );
    }

    #[test]
    fn refuses_filters_that_expand_beyond_the_domain_limits() {
        let many = ["name pr"; 13].join(" or ");
        assert!(refusal(&many).contains("too large"));
        let fewer = ["name pr"; 12].join(" or ");
        map(&fewer);
    }

    fn group(text: &str) -> Result<GroupQuery, ScimError> {
        group_query(&Filter::parse(text).unwrap())
    }

    #[test]
    fn group_queries_take_display_name_and_external_id() {
        let named = |how, name: &str| GroupQuery {
            display_name: Some((how, name.to_owned())),
            external_id: None,
        };
        assert_eq!(
            group(r#"displayName eq "Admins""#).unwrap(),
            named(NameMatch::Equals, "Admins")
        );
        assert_eq!(
            group(r#"DISPLAYNAME SW "Ad""#).unwrap(),
            named(NameMatch::StartsWith, "Ad")
        );
        assert_eq!(
            group(r#"displayName co "min""#).unwrap(),
            named(NameMatch::Contains, "min")
        );
        assert_eq!(
            group(r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "A""#).unwrap(),
            named(NameMatch::Equals, "A")
        );
        assert_eq!(
            group(r#"externalId eq "E-1" and displayName co "a""#).unwrap(),
            GroupQuery {
                display_name: Some((NameMatch::Contains, "a".into())),
                external_id: Some("E-1".into()),
            }
        );
    }

    #[test]
    fn group_queries_refuse_everything_else() {
        for text in [
            r#"displayName ew "s""#,
            r#"displayName eq "a" and displayName sw "b""#,
            r#"externalId eq "a" and externalId eq "b""#,
            r#"displayName eq "a" or externalId eq "b""#,
            r#"not (displayName eq "a")"#,
            r#"externalId co "a""#,
            "displayName eq 5",
            "displayName pr",
            "displayName eq null",
            r#"id eq "x""#,
            r#"members[value eq "x"]"#,
            r#"displayName.x eq "a""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:displayName eq "a""#,
        ] {
            let error = group(text).unwrap_err();
            assert_eq!(error.scim_type, Some(ScimType::InvalidFilter), "{text}");
            assert!(error.detail.contains("displayName (eq, sw or co"), "{text}");
        }
    }
}
