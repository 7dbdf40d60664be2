//! `/Users`: list and search (filters compiled to SQL by the store), create, read, replace,
//! patch and delete. The operations are functions of the request's parts, so that Bulk
//! runs exactly the code the endpoints run.

use super::body::ScimJson;
use super::error::ScimFailure;
use super::query::{self, ListQuery, list_response};
use super::reply::ScimReply;
use super::{Scim, preconditions};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use std::collections::HashMap;
use tessera_core::attributes::AttributeSchema;
use tessera_core::group::Group;
use tessera_core::ids::UserId;
use tessera_core::service::NewUser;
use tessera_core::user::User;
use tessera_core::user_filter::UserFilter;
use tessera_scim::mapping::user::{MissingExtension, patch_base, read_user, render_user};
use tessera_scim::mapping::{filter::user_filter, sort::user_sort, user_schemas};
use tessera_scim::schema::ResourceSchemas;
use tessera_scim::{AttributeSelection, Filter, Limits, PatchRequest, ScimError, project};

/// The tenant's custom attributes and the User schemas built from them.
struct UserSchemas {
    custom: AttributeSchema,
    schemas: ResourceSchemas,
}

async fn user_schemas_of(state: &AppState, scim: &Scim) -> Result<UserSchemas, ScimFailure> {
    let custom = state.core.attribute_schema(&scim.auth).await?;
    let schemas = user_schemas(&custom);
    Ok(UserSchemas { custom, schemas })
}

fn parse_id(id: &str) -> Result<UserId, ScimFailure> {
    id.parse()
        .map_err(|_| ScimFailure(ScimError::not_found("user not found")))
}

/// Whether the selection returns `groups`, which costs a query per user.
fn wants_groups(selection: &AttributeSelection) -> bool {
    let names_groups = |path: &tessera_scim::AttrPath| path.name.eq_ignore_ascii_case("groups");
    if selection.attributes.is_empty() {
        !selection
            .excluded
            .iter()
            .any(|path| names_groups(path) && path.sub.is_none())
    } else {
        selection.attributes.iter().any(names_groups)
    }
}

/// The groups of `users` when the selection returns `groups`, in one query.
async fn groups_of(
    state: &AppState,
    scim: &Scim,
    users: &[&User],
    selection: &AttributeSelection,
) -> Result<HashMap<UserId, Vec<Group>>, ScimFailure> {
    if !wants_groups(selection) {
        return Ok(HashMap::new());
    }
    let ids: Vec<UserId> = users.iter().map(|user| user.id).collect();
    Ok(state.core.groups_of_users(&scim.auth, &ids).await?)
}

/// The user's resource as the selection shows it, and its full form (for ETag and
/// location, which a selection may leave out).
fn present(
    scim: &Scim,
    schemas: &UserSchemas,
    user: &User,
    groups: &HashMap<UserId, Vec<Group>>,
    selection: &AttributeSelection,
) -> (Value, Value) {
    let groups = groups.get(&user.id).map_or(&[][..], Vec::as_slice);
    let full = render_user(user, groups, &schemas.custom, &scim.location);
    let shown = project(&full, &schemas.schemas, selection);
    (full, shown)
}

async fn reply(
    state: &AppState,
    scim: &Scim,
    schemas: &UserSchemas,
    status: StatusCode,
    user: &User,
    selection: &AttributeSelection,
) -> Result<ScimReply, ScimFailure> {
    let groups = groups_of(state, scim, &[user], selection).await?;
    let (full, shown) = present(scim, schemas, user, &groups, selection);
    Ok(ScimReply::resource(status, &full, shown))
}

/// One page of the users `query` selects: how many match in all, and their resources.
pub(super) async fn page(
    state: &AppState,
    scim: &Scim,
    query: &ListQuery,
    offset: u64,
    count: u32,
) -> Result<(u64, Vec<Value>), ScimFailure> {
    let schemas = user_schemas_of(state, scim).await?;
    let filter = match &query.filter {
        Some(text) => user_filter(
            &Filter::parse_with(text, &Limits::DEFAULT)?,
            &schemas.schemas,
            &schemas.custom,
        )?,
        None => UserFilter::all(),
    };
    let sort = user_sort(query.sort_by.as_deref(), query.sort_order.as_deref())?;
    let found = state
        .core
        .filter_users(&scim.auth, &filter, sort, offset, count)
        .await?;
    let users: Vec<&User> = found.users.iter().collect();
    let groups = groups_of(state, scim, &users, &query.selection).await?;
    let resources = found
        .users
        .iter()
        .map(|user| present(scim, &schemas, user, &groups, &query.selection).1)
        .collect();
    Ok((found.total, resources))
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
            .get_user(&scim.auth, parse_id(id)?)
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

/// Reads a resource as a new user (checked, not yet written).
pub(super) fn new_user(body: &Value, custom: &AttributeSchema) -> Result<NewUser, ScimFailure> {
    let next = read_user(body, None, custom, MissingExtension::Keep)?;
    Ok(NewUser {
        profile: next.profile,
        password_hash: None,
        password: next.password,
        disabled: !next.active,
    })
}

pub(super) async fn create_op(
    state: &AppState,
    scim: &Scim,
    body: &Value,
) -> Result<ScimReply, ScimFailure> {
    let schemas = user_schemas_of(state, scim).await?;
    let user = state
        .core
        .create_user_via(&scim.auth, new_user(body, &schemas.custom)?, "scim")
        .await?;
    reply(
        state,
        scim,
        &schemas,
        StatusCode::CREATED,
        &user,
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
    let user = state.core.get_user(&scim.auth, parse_id(&id)?).await?;
    if preconditions::not_modified(&headers, user.version) {
        return Ok(ScimReply::not_modified(user.version));
    }
    let schemas = user_schemas_of(&state, &scim).await?;
    reply(&state, &scim, &schemas, StatusCode::OK, &user, &selection).await
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
    let schemas = user_schemas_of(state, scim).await?;
    let user = state
        .core
        .edit_user(&scim.auth, parse_id(id)?, if_match, |current| {
            read_user(body, Some(current), &schemas.custom, MissingExtension::Keep)
                .map_err(ScimFailure)
        })
        .await?;
    reply(
        state,
        scim,
        &schemas,
        StatusCode::OK,
        &user,
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

pub(super) async fn patch_op(
    state: &AppState,
    scim: &Scim,
    id: &str,
    if_match: Option<i64>,
    body: &Value,
) -> Result<ScimReply, ScimFailure> {
    let request = PatchRequest::from_json(body, &Limits::DEFAULT)?;
    let schemas = user_schemas_of(state, scim).await?;
    let user = state
        .core
        .edit_user(&scim.auth, parse_id(id)?, if_match, |current| {
            let resource = patch_base(current, &schemas.custom, &scim.location);
            let patched = request.apply(&resource, &schemas.schemas)?;
            super::refuse_read_only(&patched.touched, &schemas.schemas)?;
            read_user(
                &patched.resource,
                Some(current),
                &schemas.custom,
                MissingExtension::Clear,
            )
            .map_err(ScimFailure)
        })
        .await?;
    reply(
        state,
        scim,
        &schemas,
        StatusCode::OK,
        &user,
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
        .delete_user_at(&scim.auth, parse_id(id)?, if_match)
        .await?;
    Ok(ScimReply::status(StatusCode::NO_CONTENT))
}
