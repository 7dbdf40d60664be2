//! SCIM 2.0 protocol logic (RFC 7643, RFC 7644) with no HTTP framework and no database:
//! the filter and PATCH-path parsers with their size and depth limits, the typed filter AST
//! the store compiles to parameterised SQL, the PATCH engine over JSON resources, the
//! schemas Tessera serves (core User and Group, enterprise and Tessera extensions),
//! `ServiceProviderConfig` and `ResourceType`, attribute projection, and errors in RFC 7644's
//! error schema. `tessera-web` turns HTTP into these calls; the store and the core services
//! hold the data.
//!
//! Every parser here takes untrusted input: it never panics, bounds its recursion and
//! refuses oversized input before doing work (SECURITY.md A33, A34, A38).

pub mod attr_path;
pub mod error;
pub mod filter;
mod json;
pub mod limits;
pub mod mapping;
pub mod patch;
pub mod path;
pub mod projection;
pub mod rules;
pub mod schema;
mod syntax;
pub mod urn;

pub use attr_path::AttrPath;
pub use error::{ScimError, ScimType};
pub use filter::{CompValue, CompareOp, Filter};
pub use limits::Limits;
pub use patch::{PatchOpKind, PatchOperation, PatchRequest, Patched};
pub use path::PatchPath;
pub use projection::{AttributeSelection, project};
pub use rules::{DefaultRules, SchemaRules};
pub use schema::ResourceSchemas;
