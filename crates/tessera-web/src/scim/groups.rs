//! `/Groups`: list and search (by display name and external id), create, read, replace,
//! patch (members added and removed without rewriting the rest) and delete.

use super::body::ScimJson;
use super::error::ScimFailure;
use super::query::{self, ListQuery, list_response};
use super::reply::ScimReply;
use super::{Scim, preconditions};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use std::collections::BTreeSet;
use tessera_core::group::{Group, GroupQuery};
use tessera_core::ids::{GroupId, UserId};
use tessera_core::page::MAX_PAGE_SIZE;
use tessera_scim::mapping::filter::group_query;
use tessera_scim::mapping::group::{member_changes, read_group, render_group};
use tessera_scim::schema::ResourceSchemas;
use tessera_scim::{AttributeSelection, Filter, Limits, PatchRequest, ScimError, project};

fn parse_id(id: &str) -> Result<GroupId, ScimFailure> {
    id.parse()
        .map_err(|_| ScimFailure(ScimError::not_found("group not found")))
}

/// Whether the selection returns `members`, which must then be read.
fn wants_members(selection: &AttributeSelection) -> bool {
    let names_members = |path: &tessera_scim::AttrPath| path.name.eq_ignore_ascii_case("members");
    if selection.attributes.is_empty() {
        !selection
            .excluded
            .iter()
            .any(|path| names_members(path) && path.sub.is_none())
    } else {
        selection.attributes.iter().any(names_members)
    }
}

/// Every member of the group, page by page.
async fn all_members(
    state: &AppState,
    scim: &Scim,
    id: GroupId,
) -> Result<Vec<UserId>, ScimFailure> {
    let mut members = Vec::new();
    loop {
        let page = state
            .core
            .group_members(&scim.auth, id, members.len() as u64, MAX_PAGE_SIZE)
            .await?;
        let fetched = page.members.len();
        members.extend(page.members);
        if fetched == 0 || members.len() as u64 >= page.total {
            return Ok(members);
        }
    }
}

async fn present(
    state: &AppState,
    scim: &Scim,
    group: &Group,
    selection: &AttributeSelection,
) -> Result<(Value, Value), ScimFailure> {
    let members = if wants_members(selection) {
        Some(all_members(state, scim, group.id).await?)
    } else {
        None
    };
    let full = render_group(group, members.as_deref(), &scim.location);
    let shown = project(&full, &ResourceSchemas::group(), selection);
    Ok((full, shown))
}

async fn reply(
    state: &AppState,
    scim: &Scim,
    status: StatusCode,
    group: &Group,
    selection: &AttributeSelection,
) -> Result<ScimReply, ScimFailure> {
    let (full, shown) = present(state, scim, group, selection).await?;
    Ok(ScimReply::resource(status, &full, shown))
}

/// One page of the groups `query` selects: how many match in all, and their resources.
pub(super) async fn page(
    state: &AppState,
    scim: &Scim,
    query: &ListQuery,
    offset: u64,
    count: u32,
) -> Result<(u64, Vec<Value>), ScimFailure> {
    let filter = match &query.filter {
        Some(text) => group_query(&Filter::parse_with(text, &Limits::DEFAULT)?)?,
        None => GroupQuery::default(),
    };
    // Groups come by display name, the order their store keeps; asking for another is
    // refused rather than applied to one page only.
    let by_name = query
        .sort_by
        .as_deref()
        .is_none_or(|sort_by| sort_by.eq_ignore_ascii_case("displayName"));
    let ascending = query
        .sort_order
        .as_deref()
        .is_none_or(|order| order.eq_ignore_ascii_case("ascending"));
    if !by_name || !ascending {
        return Err(ScimFailure(ScimError::invalid_value(
            "Groups are listed by displayName, ascending",
        )));
    }
    let page = state
        .core
        .list_groups(&scim.auth, &filter, offset, count)
        .await?;
    let groups = page.groups;
    let mut resources = Vec::with_capacity(groups.len());
    for group in &groups {
        resources.push(present(state, scim, group, &query.selection).await?.1);
    }
    Ok((page.total, resources))
}

async fn run_list(
    state: &AppState,
    scim: &Scim,
    query: ListQuery,
) -> Result<ScimReply, ScimFailure> {
    let (total, resources) = page(state, scim, &query, query.start_index - 1, query.count).await?;
    Ok(ScimReply::ok(list_response(
        total,
        query.start_index,
        resources,
    )))
}

/// The version `If-Match` asks a write to find (see [`preconditions::expected_version`]).
async fn if_match(
    state: &AppState,
    scim: &Scim,
    id: &str,
    headers: &HeaderMap,
) -> Result<Option<i64>, ScimFailure> {
    let current = async {
        Ok(state
            .core
            .get_group(&scim.auth, parse_id(id)?)
            .await?
            .version)
    };
    preconditions::expected_version(preconditions::if_match_tags(headers), current).await
}

pub async fn list(
    State(state): State<AppState>,
    scim: Scim,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<ScimReply, ScimFailure> {
    run_list(&state, &scim, query::from_pairs(pairs)?).await
}

pub async fn search(
    State(state): State<AppState>,
    scim: Scim,
    ScimJson(body): ScimJson,
) -> Result<ScimReply, ScimFailure> {
    run_list(&state, &scim, query::from_search(&body)?).await
}

pub async fn create(
    State(state): State<AppState>,
    scim: Scim,
    ScimJson(body): ScimJson,
) -> Result<ScimReply, ScimFailure> {
    create_op(&state, &scim, &body).await
}

pub(super) async fn create_op(
    state: &AppState,
    scim: &Scim,
    body: &Value,
) -> Result<ScimReply, ScimFailure> {
    let group = state
        .core
        .create_group(&scim.auth, read_group(body)?)
        .await?;
    reply(
        state,
        scim,
        StatusCode::CREATED,
        &group,
        &AttributeSelection::default(),
    )
    .await
}

pub async fn read(
    State(state): State<AppState>,
    scim: Scim,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<ScimReply, ScimFailure> {
    let selection = query::selection_from_pairs(pairs)?;
    let group = state.core.get_group(&scim.auth, parse_id(&id)?).await?;
    if preconditions::not_modified(&headers, group.version) {
        return Ok(ScimReply::not_modified(group.version));
    }
    reply(&state, &scim, StatusCode::OK, &group, &selection).await
}

pub async fn replace(
    State(state): State<AppState>,
    scim: Scim,
    Path(id): Path<String>,
    headers: HeaderMap,
    ScimJson(body): ScimJson,
) -> Result<ScimReply, ScimFailure> {
    replace_op(
        &state,
        &scim,
        &id,
        if_match(&state, &scim, &id, &headers).await?,
        &body,
    )
    .await
}

pub(super) async fn replace_op(
    state: &AppState,
    scim: &Scim,
    id: &str,
    if_match: Option<i64>,
    body: &Value,
) -> Result<ScimReply, ScimFailure> {
    let group = state
        .core
        .replace_group(&scim.auth, parse_id(id)?, if_match, read_group(body)?)
        .await?;
    reply(
        state,
        scim,
        StatusCode::OK,
        &group,
        &AttributeSelection::default(),
    )
    .await
}

pub async fn patch(
    State(state): State<AppState>,
    scim: Scim,
    Path(id): Path<String>,
    headers: HeaderMap,
    ScimJson(body): ScimJson,
) -> Result<ScimReply, ScimFailure> {
    patch_op(
        &state,
        &scim,
        &id,
        if_match(&state, &scim, &id, &headers).await?,
        &body,
    )
    .await
}

/// Adding and removing members (what provisioning clients mostly send) is written without
/// reading the member list, and answered with 204. Anything else is applied to the whole
/// group, then only what changed is written: a new name or external id leaves the members
/// as they are, a new member list adds and removes just the difference.
pub(super) async fn patch_op(
    state: &AppState,
    scim: &Scim,
    id: &str,
    if_match: Option<i64>,
    body: &Value,
) -> Result<ScimReply, ScimFailure> {
    let request = PatchRequest::from_json(body, &Limits::DEFAULT)?;
    let id = parse_id(id)?;
    if let Some(changes) = member_changes(&request) {
        let changes = changes?;
        let group = state
            .core
            .change_group_members(&scim.auth, id, if_match, &changes.add, &changes.remove)
            .await?;
        return Ok(ScimReply {
            etag: Some(tessera_scim::mapping::etag(group.version)),
            ..ScimReply::status(StatusCode::NO_CONTENT)
        });
    }
    let current = state.core.get_group(&scim.auth, id).await?;
    if if_match.is_some_and(|version| version != current.version) {
        return Err(tessera_core::CoreError::EditConflict.into());
    }
    let members = all_members(state, scim, id).await?;
    let schemas = ResourceSchemas::group();
    let resource = render_group(&current, Some(&members), &scim.location);
    let patched = request.apply(&resource, &schemas)?;
    super::refuse_read_only(&patched.touched, &schemas)?;
    let next = read_group(&patched.resource)?;
    let before: BTreeSet<UserId> = members.iter().copied().collect();
    let after: BTreeSet<UserId> = next.members.iter().copied().collect();
    let expected = if_match.or(Some(current.version));
    let mut group = current.clone();
    if next.display_name != current.display_name || next.external_id != current.external_id {
        group = state
            .core
            .rename_group(
                &scim.auth,
                id,
                expected,
                next.display_name.clone(),
                next.external_id.clone(),
            )
            .await?;
    }
    if before != after {
        let add: Vec<UserId> = after.difference(&before).copied().collect();
        let remove: Vec<UserId> = before.difference(&after).copied().collect();
        // The difference was computed from the version read: name it, so that a member
        // list changed meanwhile ends in 412 rather than in a lost change.
        let version = (group.version != current.version).then_some(group.version);
        group = state
            .core
            .change_group_members(&scim.auth, id, version.or(expected), &add, &remove)
            .await?;
    }
    reply(
        state,
        scim,
        StatusCode::OK,
        &group,
        &AttributeSelection::default(),
    )
    .await
}

pub async fn delete(
    State(state): State<AppState>,
    scim: Scim,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<ScimReply, ScimFailure> {
    delete_op(
        &state,
        &scim,
        &id,
        if_match(&state, &scim, &id, &headers).await?,
    )
    .await
}

pub(super) async fn delete_op(
    state: &AppState,
    scim: &Scim,
    id: &str,
    if_match: Option<i64>,
) -> Result<ScimReply, ScimFailure> {
    state
        .core
        .delete_group(&scim.auth, parse_id(id)?, if_match)
        .await?;
    Ok(ScimReply::status(StatusCode::NO_CONTENT))
}
