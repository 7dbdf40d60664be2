//! `POST /Bulk` (RFC 7644 §3.7): many operations on Users and Groups in one request, each
//! run by the same code as its endpoint and answered on its own. `bulkId:` references to
//! resources created earlier in the request are resolved whatever the order the operations
//! come in; `failOnErrors` stops the request after that many failures.
//!
//! Runs of consecutive user creations without passwords and references are written in one
//! transaction each (the speed that imports and catalogue sign-ups need); if a run fails,
//! its operations are run one by one, so each gets its own answer.

use super::body::ScimJson;
use super::error::ScimFailure;
use super::reply::ScimReply;
use super::{BULK_MAX_OPERATIONS, Scim, groups, users};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap};
use tessera_scim::mapping::{etag, version_of};
use tessera_scim::{ScimError, urn};

const REFERENCE: &str = "bulkId:";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Users,
    Groups,
}

/// One operation as the client sent it.
struct Operation {
    method: Method,
    bulk_id: Option<String>,
    /// The If-Match version (`version`).
    version: Option<i64>,
    path: String,
    data: Option<Value>,
    /// The bulkIds this operation refers to.
    needs: BTreeSet<String>,
}

/// The answer to one operation.
fn answer(
    operation: &Operation,
    outcome: Result<ScimReply, ScimFailure>,
    location: Option<String>,
) -> Value {
    let mut out = Map::new();
    out.insert("method".into(), json!(operation.method.as_str()));
    if let Some(bulk_id) = &operation.bulk_id {
        out.insert("bulkId".into(), json!(bulk_id));
    }
    match outcome {
        Ok(reply) => {
            let location = reply.location.clone().or(location);
            if let Some(location) = location {
                out.insert("location".into(), json!(location));
            }
            if let Some(version) = reply.etag {
                out.insert("version".into(), json!(version));
            }
            out.insert("status".into(), json!(reply.status.as_u16().to_string()));
        }
        Err(ScimFailure(error)) => {
            if let Some(location) = location {
                out.insert("location".into(), json!(location));
            }
            out.insert("status".into(), json!(error.status.to_string()));
            out.insert(
                "response".into(),
                serde_json::to_value(&error).unwrap_or(Value::Null),
            );
        }
    }
    Value::Object(out)
}

fn member<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

fn collect_references(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::String(text) => {
            if let Some(id) = text.strip_prefix(REFERENCE) {
                into.insert(id.to_owned());
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_references(item, into)),
        Value::Object(members) => members
            .values()
            .for_each(|item| collect_references(item, into)),
        _ => {}
    }
}

fn substitute(value: &mut Value, ids: &HashMap<String, String>) {
    match value {
        Value::String(text) => {
            if let Some(id) = text.strip_prefix(REFERENCE).and_then(|bulk| ids.get(bulk)) {
                *text = id.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| substitute(item, ids)),
        Value::Object(members) => members.values_mut().for_each(|item| substitute(item, ids)),
        _ => {}
    }
}

fn parse_operation(index: usize, value: &Value) -> Result<Operation, ScimError> {
    let bad = |what: &str| ScimError::invalid_syntax(format!("Operations[{index}]: {what}"));
    let Value::Object(object) = value else {
        return Err(bad("must be an object"));
    };
    let method = match member(object, "method").and_then(Value::as_str) {
        Some(m) if m.eq_ignore_ascii_case("POST") => Method::Post,
        Some(m) if m.eq_ignore_ascii_case("PUT") => Method::Put,
        Some(m) if m.eq_ignore_ascii_case("PATCH") => Method::Patch,
        Some(m) if m.eq_ignore_ascii_case("DELETE") => Method::Delete,
        _ => return Err(bad("'method' must be POST, PUT, PATCH or DELETE")),
    };
    let path = member(object, "path")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("'path' is required"))?
        .to_owned();
    let bulk_id = match member(object, "bulkId") {
        Some(Value::String(id)) if !id.is_empty() && id.len() <= 256 => Some(id.clone()),
        None | Some(Value::Null) if method != Method::Post => None,
        _ => {
            return Err(bad(
                "'bulkId' must be a non-empty string (it is required for POST)",
            ));
        }
    };
    let version = match member(object, "version") {
        Some(Value::String(tag)) => Some(version_of(tag).unwrap_or(-1)),
        _ => None,
    };
    let data = member(object, "data")
        .cloned()
        .filter(|data| !data.is_null());
    if method != Method::Delete && data.is_none() {
        return Err(bad("'data' is required"));
    }
    let mut needs = BTreeSet::new();
    if let Some(data) = &data {
        collect_references(data, &mut needs);
    }
    if let Some(id) = path
        .rsplit('/')
        .next()
        .and_then(|last| last.strip_prefix(REFERENCE))
    {
        needs.insert(id.to_owned());
    }
    Ok(Operation {
        method,
        bulk_id,
        version,
        path,
        data,
        needs,
    })
}

/// `(resource type, id)` of an operation's path.
fn target(path: &str) -> Result<(Kind, Option<&str>), ScimError> {
    let path = path.strip_prefix('/').unwrap_or(path);
    let (collection, id) = path
        .split_once('/')
        .map_or((path, None), |(collection, id)| (collection, Some(id)));
    let kind = match collection {
        "Users" => Kind::Users,
        "Groups" => Kind::Groups,
        _ => {
            return Err(ScimError::invalid_path(
                "Bulk operations address /Users or /Groups",
            ));
        }
    };
    if id.is_some_and(|id| id.is_empty() || id.contains('/')) {
        return Err(ScimError::invalid_path("not the path of a resource"));
    }
    Ok((kind, id))
}

async fn run(
    state: &AppState,
    scim: &Scim,
    operation: &Operation,
    path: &str,
    data: &Value,
) -> (Result<ScimReply, ScimFailure>, Option<String>) {
    let (kind, id) = match target(path) {
        Ok(target) => target,
        Err(error) => return (Err(ScimFailure(error)), None),
    };
    let location = id.map(|id| match kind {
        Kind::Users => scim.location.user(id),
        Kind::Groups => scim.location.group(id),
    });
    let version = operation.version;
    let outcome = match (operation.method, kind, id) {
        (Method::Post, Kind::Users, None) => users::create_op(state, scim, data).await,
        (Method::Post, Kind::Groups, None) => groups::create_op(state, scim, data).await,
        (Method::Put, Kind::Users, Some(id)) => {
            users::replace_op(state, scim, id, version, data).await
        }
        (Method::Put, Kind::Groups, Some(id)) => {
            groups::replace_op(state, scim, id, version, data).await
        }
        (Method::Patch, Kind::Users, Some(id)) => {
            users::patch_op(state, scim, id, version, data).await
        }
        (Method::Patch, Kind::Groups, Some(id)) => {
            groups::patch_op(state, scim, id, version, data).await
        }
        (Method::Delete, Kind::Users, Some(id)) => users::delete_op(state, scim, id, version).await,
        (Method::Delete, Kind::Groups, Some(id)) => {
            groups::delete_op(state, scim, id, version).await
        }
        (Method::Post, _, Some(_)) => Err(ScimFailure(ScimError::invalid_path(
            "POST addresses a collection, not a resource",
        ))),
        (_, _, None) => Err(ScimFailure(ScimError::invalid_path(
            "PUT, PATCH and DELETE address a resource: /Users/{id} or /Groups/{id}",
        ))),
    };
    (outcome, location)
}

/// Whether an operation can join a batch of user creations.
fn batchable(operation: &Operation) -> bool {
    operation.method == Method::Post
        && operation.needs.is_empty()
        && matches!(target(&operation.path), Ok((Kind::Users, None)))
        && operation.data.as_ref().is_some_and(|data| {
            data.as_object()
                .is_some_and(|object| member(object, "password").is_none_or(Value::is_null))
        })
}

pub async fn bulk(
    State(state): State<AppState>,
    scim: Scim,
    ScimJson(body): ScimJson,
) -> Result<ScimReply, ScimFailure> {
    let Value::Object(request) = &body else {
        return Err(ScimFailure(ScimError::invalid_syntax(
            "a BulkRequest is a JSON object",
        )));
    };
    let listed = member(request, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|schemas| {
            schemas.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(urn::BULK_REQUEST))
            })
        });
    if !listed {
        return Err(ScimFailure(ScimError::invalid_syntax(format!(
            "'schemas' must list {}",
            urn::BULK_REQUEST
        ))));
    }
    let fail_on_errors = match member(request, "failOnErrors") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_u64() {
            Some(n) if n >= 1 => Some(n),
            _ => {
                return Err(ScimFailure(ScimError::invalid_value(
                    "failOnErrors must be a positive integer",
                )));
            }
        },
    };
    let Some(Value::Array(items)) = member(request, "Operations") else {
        return Err(ScimFailure(ScimError::invalid_syntax(
            "'Operations' must be an array",
        )));
    };
    if items.len() > BULK_MAX_OPERATIONS {
        return Err(ScimFailure(ScimError::payload_too_large(format!(
            "a Bulk request holds at most {BULK_MAX_OPERATIONS} operations"
        ))));
    }
    let operations = items
        .iter()
        .enumerate()
        .map(|(index, item)| parse_operation(index, item))
        .collect::<Result<Vec<_>, _>>()?;
    let mut seen = BTreeSet::new();
    for bulk_id in operations.iter().filter_map(|op| op.bulk_id.as_ref()) {
        if !seen.insert(bulk_id.as_str()) {
            return Err(ScimFailure(ScimError::invalid_value(format!(
                "bulkId '{bulk_id}' is used twice"
            ))));
        }
    }
    let answers = Runner::new(&state, &scim, &operations, fail_on_errors)
        .run()
        .await;
    Ok(ScimReply::ok(json!({
        "schemas": [urn::BULK_RESPONSE],
        "Operations": answers,
    })))
}

/// Runs the operations: in order, each once what it refers to exists.
struct Runner<'a> {
    state: &'a AppState,
    scim: &'a Scim,
    operations: &'a [Operation],
    fail_on_errors: Option<u64>,
    answers: Vec<Option<Value>>,
    /// bulkId → id of the created resource.
    created: HashMap<String, String>,
    /// bulkIds whose operation failed.
    failed: BTreeSet<String>,
    errors: u64,
}

impl<'a> Runner<'a> {
    fn new(
        state: &'a AppState,
        scim: &'a Scim,
        operations: &'a [Operation],
        fail_on_errors: Option<u64>,
    ) -> Self {
        Self {
            state,
            scim,
            operations,
            fail_on_errors,
            answers: vec![None; operations.len()],
            created: HashMap::new(),
            failed: BTreeSet::new(),
            errors: 0,
        }
    }

    fn stopped(&self) -> bool {
        self.fail_on_errors
            .is_some_and(|limit| self.errors >= limit)
    }

    fn record(
        &mut self,
        index: usize,
        outcome: Result<ScimReply, ScimFailure>,
        location: Option<String>,
    ) {
        let operation = &self.operations[index];
        match (&outcome, &operation.bulk_id) {
            (Ok(reply), Some(bulk_id)) if operation.method == Method::Post => {
                if let Some(id) = reply
                    .location
                    .as_deref()
                    .and_then(|location| location.rsplit('/').next())
                {
                    self.created.insert(bulk_id.clone(), id.to_owned());
                }
            }
            (Err(_), Some(bulk_id)) => {
                self.failed.insert(bulk_id.clone());
            }
            _ => {}
        }
        if outcome.is_err() {
            self.errors += 1;
        }
        self.answers[index] = Some(answer(operation, outcome, location));
    }

    async fn run(mut self) -> Vec<Value> {
        let mut pending: Vec<usize> = (0..self.operations.len()).collect();
        while !pending.is_empty() && !self.stopped() {
            let mut deferred = Vec::new();
            let mut progressed = false;
            let mut position = 0;
            while position < pending.len() && !self.stopped() {
                let index = pending[position];
                let operation = &self.operations[index];
                if let Some(missing) = operation.needs.iter().find(|id| self.failed.contains(*id)) {
                    let error = ScimError::invalid_value(format!(
                        "the operation with bulkId '{missing}' failed"
                    ));
                    self.record(index, Err(ScimFailure(error)), None);
                    progressed = true;
                    position += 1;
                    continue;
                }
                if !operation
                    .needs
                    .iter()
                    .all(|id| self.created.contains_key(id))
                {
                    deferred.push(index);
                    position += 1;
                    continue;
                }
                if batchable(operation) {
                    let run: Vec<usize> = pending[position..]
                        .iter()
                        .copied()
                        .take_while(|&i| batchable(&self.operations[i]))
                        .collect();
                    position += run.len();
                    self.create_users(&run).await;
                    progressed = true;
                    continue;
                }
                let mut data = operation.data.clone().unwrap_or(Value::Null);
                substitute(&mut data, &self.created);
                let path = match operation.path.rsplit_once('/') {
                    Some((head, last)) if last.starts_with(REFERENCE) => {
                        let id = last
                            .strip_prefix(REFERENCE)
                            .and_then(|bulk| self.created.get(bulk))
                            .cloned()
                            .unwrap_or_default();
                        format!("{head}/{id}")
                    }
                    _ => operation.path.clone(),
                };
                let (outcome, location) = run(self.state, self.scim, operation, &path, &data).await;
                self.record(index, outcome, location);
                progressed = true;
                position += 1;
            }
            if !progressed {
                for index in deferred {
                    let error = ScimError::invalid_value(
                        "refers to a bulkId that no operation of this request creates, or to itself in a cycle",
                    );
                    self.record(index, Err(ScimFailure(error)), None);
                    if self.stopped() {
                        break;
                    }
                }
                break;
            }
            pending = deferred;
        }
        self.answers.into_iter().flatten().collect()
    }

    /// Creates the users of `run` in one transaction, or one by one if that fails.
    async fn create_users(&mut self, run: &[usize]) {
        if run.len() > 1 && self.create_batch(run).await {
            return;
        }
        for &index in run {
            if self.stopped() {
                return;
            }
            let data = self.operations[index].data.clone().unwrap_or(Value::Null);
            let outcome = users::create_op(self.state, self.scim, &data).await;
            self.record(index, outcome, None);
        }
    }

    async fn create_batch(&mut self, run: &[usize]) -> bool {
        let Ok(custom) = self.state.core.attribute_schema(&self.scim.auth).await else {
            return false;
        };
        let mut batch = Vec::with_capacity(run.len());
        for &index in run {
            let data = self.operations[index].data.as_ref().unwrap_or(&Value::Null);
            match users::new_user(data, &custom) {
                Ok(new) => batch.push(new),
                Err(_) => return false,
            }
        }
        let Ok(created) = self
            .state
            .core
            .create_users(&self.scim.auth, batch, "scim")
            .await
        else {
            return false;
        };
        for (&index, user) in run.iter().zip(&created) {
            let reply = ScimReply {
                status: StatusCode::CREATED,
                body: None,
                etag: Some(etag(user.version)),
                location: Some(self.scim.location.user(&user.id.to_string())),
            };
            self.record(index, Ok(reply), None);
        }
        true
    }
}
