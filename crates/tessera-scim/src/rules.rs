//! What the filter evaluator and the PATCH engine must know about a resource type's schema
//! but cannot read from the JSON itself: which string attributes compare case-exactly,
//! which attributes are multi-valued, and which schema URNs are the core schema (attributes
//! at the top level) or extensions (attributes in an object under the URN).
//! [`crate::schema::ResourceSchemas`] answers from real schema definitions; [`DefaultRules`]
//! answers from RFC 7643's defaults, for callers and tests without a schema at hand.

use crate::attr_path::AttrPath;
use crate::urn;

/// Schema knowledge for evaluating filters and applying PATCH operations.
pub trait SchemaRules {
    /// Whether string comparisons on `attr` are case-exact (RFC 7643 §2.2 `caseExact`).
    /// `attr` is qualified from the resource root: inside `emails[type eq "work"]` the
    /// evaluator asks about `emails.type`. `attr.urn` may name the core schema or be absent.
    fn is_case_exact(&self, attr: &AttrPath) -> bool;

    /// Whether `attr` (an attribute, or a sub-attribute when `attr.sub` is set) is
    /// multi-valued. The PATCH engine asks when it creates an attribute from a single value,
    /// to wrap it in an array.
    fn is_multi_valued(&self, attr: &AttrPath) -> bool {
        let _ = attr;
        false
    }

    /// Whether `uri` is the resource type's core schema, whose attributes sit at the top
    /// level of the JSON.
    fn is_core_schema(&self, uri: &str) -> bool {
        uri.eq_ignore_ascii_case(urn::CORE_USER) || uri.eq_ignore_ascii_case(urn::CORE_GROUP)
    }

    /// Whether `uri` is one of the resource type's extension schemas, whose attributes sit
    /// in an object under the URN.
    fn is_extension_schema(&self, uri: &str) -> bool {
        uri.eq_ignore_ascii_case(urn::ENTERPRISE_USER)
            || uri.eq_ignore_ascii_case(urn::TESSERA_USER)
    }
}

/// RFC 7643's defaults without a schema: `id`, `externalId` and `$ref` sub-attributes are
/// case-exact, everything else is not; the core multi-valued attributes are multi-valued.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultRules;

const MULTI_VALUED: [&str; 11] = [
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "addresses",
    "groups",
    "entitlements",
    "roles",
    "x509Certificates",
    "members",
    "emailPurposes",
];

impl SchemaRules for DefaultRules {
    fn is_case_exact(&self, attr: &AttrPath) -> bool {
        match &attr.sub {
            Some(sub) => sub.eq_ignore_ascii_case("$ref"),
            None => {
                attr.name.eq_ignore_ascii_case("id") || attr.name.eq_ignore_ascii_case("externalId")
            }
        }
    }

    fn is_multi_valued(&self, attr: &AttrPath) -> bool {
        attr.sub.is_none()
            && MULTI_VALUED
                .iter()
                .any(|name| name.eq_ignore_ascii_case(&attr.name))
    }
}

/// A function deciding case-exactness is a complete set of rules (the other questions get
/// [`SchemaRules`]' defaults).
impl<F: Fn(&AttrPath) -> bool> SchemaRules for F {
    fn is_case_exact(&self, attr: &AttrPath) -> bool {
        self(attr)
    }
}
