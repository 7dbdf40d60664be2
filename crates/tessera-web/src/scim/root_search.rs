//! `POST /.search` at the service root (RFC 7644 §3.4.3): Users, then Groups, paged as one
//! list. A filter is applied to each resource type it can be read for; one that fits
//! neither is refused with the Users' error.

use super::body::ScimJson;
use super::error::ScimFailure;
use super::query::{from_search, list_response};
use super::reply::ScimReply;
use super::{Scim, groups, users};
use crate::AppState;
use axum::extract::State;
use tessera_scim::ScimError;

pub async fn search(
    State(state): State<AppState>,
    scim: Scim,
    ScimJson(body): ScimJson,
) -> Result<ScimReply, ScimFailure> {
    let query = from_search(&body)?;
    if query.sort_by.is_some() || query.sort_order.is_some() {
        return Err(ScimFailure(ScimError::invalid_value(
            "a search across resource types cannot be sorted; search /Users or /Groups",
        )));
    }
    let offset = query.start_index - 1;
    let users = users::page(&state, &scim, &query, offset, query.count).await;
    // The users' total decides where the groups' part of the page starts.
    let (user_total, mut resources) = match users {
        Ok(found) => found,
        Err(ScimFailure(error)) if is_filter_error(&error) => {
            // The filter may fit Groups only.
            return groups_only(&state, &scim, &query, error).await;
        }
        Err(error) => return Err(error),
    };
    let room = query
        .count
        .saturating_sub(u32::try_from(resources.len()).unwrap_or(u32::MAX));
    let group_offset = offset.saturating_sub(user_total);
    let group_total = match groups::page(&state, &scim, &query, group_offset, room).await {
        Ok((total, found)) => {
            resources.extend(found);
            total
        }
        // A filter on User attributes matches no Group.
        Err(ScimFailure(error)) if is_filter_error(&error) => 0,
        Err(error) => return Err(error),
    };
    Ok(ScimReply::ok(list_response(
        user_total + group_total,
        query.start_index,
        resources,
    )))
}

/// Whether a resource type cannot read the filter (then it simply has no matches); other
/// failures, such as an unreachable database, are answered as they are.
fn is_filter_error(error: &ScimError) -> bool {
    error.scim_type == Some(tessera_scim::ScimType::InvalidFilter)
}

async fn groups_only(
    state: &AppState,
    scim: &Scim,
    query: &super::query::ListQuery,
    users_error: ScimError,
) -> Result<ScimReply, ScimFailure> {
    match groups::page(state, scim, query, query.start_index - 1, query.count).await {
        Ok((total, resources)) => Ok(ScimReply::ok(list_response(
            total,
            query.start_index,
            resources,
        ))),
        Err(_) => Err(ScimFailure(users_error)),
    }
}
