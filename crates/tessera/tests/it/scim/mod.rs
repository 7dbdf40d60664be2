//! The SCIM 2.0 surface over HTTP (RFC 7643, RFC 7644; SECURITY.md A33–A38, A50): every
//! case talks `application/scim+json` to a real server, once per storage backend.

mod attributes;
mod auth;
mod bulk;
mod discovery;
mod errors;
mod etags;
mod filters;
mod groups;
mod paging;
mod root_search;
mod support;
mod user_patch;
mod users;
