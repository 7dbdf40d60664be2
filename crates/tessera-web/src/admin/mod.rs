//! The admin API under `/admin/v1`: JSON, bearer tokens, RFC 9457 problem details.

pub mod captcha;
pub mod clients;
pub mod events;
pub mod identity_verification;
pub mod invitations;
pub mod schema;
pub mod security;
pub mod tenants;
pub mod tokens;
mod user_dto;
pub mod users;

pub use events::EventResponse;
pub use schema::SchemaBody;
pub use tenants::{TenantCreate, TenantPatchInput, TenantResponse};
pub use tokens::{TokenCreate, TokenCreated, TokenResponse};
pub use user_dto::{
    AddressDto, EmailDto, EnterpriseDto, EnterprisePatchInput, ExternalIdDto, PhoneDto, UserCreate,
    UserPatchInput, UserResponse,
};

use crate::AppState;
use crate::problem::ApiError;
use axum::Router;
use serde::{Deserialize, Serialize};
use tessera_core::page::{Page, PageRequest};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(tenants::routes())
        .merge(schema::routes())
        .merge(users::routes())
        .merge(tokens::routes())
        .merge(clients::routes())
        .merge(events::routes())
        .merge(invitations::routes())
        .merge(identity_verification::routes())
        .merge(captcha::routes())
        .merge(security::routes())
}

/// Paging parameters of every list.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct PageParams {
    /// Items per page, 1–200 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    /// Paging parameters from a query string that may hold nothing else.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Result<Self, ApiError> {
        let mut page = Self::default();
        for (key, value) in pairs {
            if !page.take(&key, &value)? {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter '{key}'"
                )));
            }
        }
        Ok(page)
    }

    /// Takes `limit` or `cursor` from a query pair; false for any other key.
    pub fn take(&mut self, key: &str, value: &str) -> Result<bool, ApiError> {
        match key {
            "limit" => {
                self.limit = Some(
                    value
                        .parse()
                        .map_err(|_| ApiError::bad_request("limit: must be a whole number"))?,
                )
            }
            "cursor" => self.cursor = Some(value.to_owned()),
            _ => return Ok(false),
        }
        Ok(true)
    }

    pub fn to_request(&self) -> Result<PageRequest, ApiError> {
        let after =
            match &self.cursor {
                Some(cursor) => Some(Uuid::parse_str(cursor).map_err(|_| {
                    ApiError::bad_request("cursor: not a cursor returned by this API")
                })?),
                None => None,
            };
        Ok(PageRequest::new(after, self.limit))
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> ListResponse<T> {
    pub fn from_page<D>(page: Page<D>, render: impl Fn(D) -> T) -> Self {
        Self {
            items: page.items.into_iter().map(render).collect(),
            next_cursor: page.next_after.map(|id| id.simple().to_string()),
        }
    }
}

/// Where a new object can be read: the collection path the request used (with its
/// `/t/{tenant}` prefix, if any) and the id.
pub fn location_of(original: &axum::http::Uri, id: impl std::fmt::Display) -> String {
    format!("{}/{id}", original.path().trim_end_matches('/'))
}

/// Path ids that do not parse name nothing that exists.
pub fn parse_id<T: std::str::FromStr>(text: &str, what: &'static str) -> Result<T, ApiError> {
    text.parse()
        .map_err(|_| tessera_core::CoreError::NotFound(what).into())
}

pub fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
