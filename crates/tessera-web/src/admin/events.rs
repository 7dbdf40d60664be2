//! `/admin/v1/events`: the tenant's audit log, filtered by type, subject and time.

use super::{ListResponse, PageParams, rfc3339};
use crate::AppState;
use crate::auth::Caller;
use crate::problem::{ApiError, Problem};
use crate::tenant::RequestTenant;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;
use tessera_core::api_token::Scope;
use tessera_core::event::{Event, EventQuery};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/v1/events", get(list))
}

/// One recorded change.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventResponse {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// e.g. `user.created`, `user.updated`, `api_token.revoked`.
    #[serde(rename = "type")]
    pub kind: String,
    pub occurred_at: String,
    /// `system`, `bootstrap`, `api_token:<id>` or `user:<id>`.
    pub actor: String,
    /// What the event is about, `user:<id>`, `tenant:<id>`…
    pub subject: String,
    #[schema(value_type = Object)]
    pub payload: Value,
}

impl From<Event> for EventResponse {
    fn from(event: Event) -> Self {
        Self {
            id: event.id.to_string(),
            kind: event.kind,
            occurred_at: rfc3339(event.occurred_at),
            actor: event.actor.to_string(),
            subject: event.subject,
            payload: event.payload,
        }
    }
}

/// Event filters; `type` may be repeated.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "documents the query string, which is parsed as pairs"
)]
pub struct EventParams {
    #[param(rename = "type")]
    pub kind: Option<String>,
    pub subject: Option<String>,
    /// RFC 3339; inclusive.
    pub since: Option<String>,
    /// RFC 3339; exclusive.
    pub until: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn time_param(name: &str, text: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| ApiError::bad_request(format!("{name}: must be an RFC 3339 time")))
}

fn parse_params(pairs: Vec<(String, String)>) -> Result<(EventQuery, PageParams), ApiError> {
    let mut query = EventQuery::default();
    let mut page = PageParams::default();
    for (key, value) in pairs {
        if page.take(&key, &value)? {
            continue;
        }
        match key.as_str() {
            "type" => query.kinds.push(value),
            "subject" => query.subject = Some(value),
            "since" => query.since = Some(time_param("since", &value)?),
            "until" => query.until = Some(time_param("until", &value)?),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter '{other}'"
                )));
            }
        }
    }
    Ok((query, page))
}

#[utoipa::path(get, path = "/admin/v1/events", tag = "events", params(EventParams),
    responses((status = 200, body = ListResponse<EventResponse>), (status = 400, body = Problem)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<ListResponse<EventResponse>>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    let (query, page) = parse_params(pairs)?;
    let events = state
        .core
        .list_events(&auth, &query, page.to_request()?)
        .await?;
    Ok(Json(ListResponse::from_page(events, EventResponse::from)))
}
