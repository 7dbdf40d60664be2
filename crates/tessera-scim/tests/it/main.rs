//! The SCIM protocol logic from the outside: the filter table and its properties, the PATCH
//! engine on RFC 7644's examples, projection, and the schemas Tessera advertises.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod filter_properties;
mod filter_table;
mod patch_rfc;
mod projection;
mod schemas;
