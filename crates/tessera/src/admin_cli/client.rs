//! A small admin API client: bearer auth, JSON in and out, problem details turned into
//! readable errors.

use anyhow::{Context, bail};
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    pub fn new(url: &str, tenant: Option<&str>, token: Option<&str>) -> anyhow::Result<Self> {
        let Some(token) = token else {
            bail!("no token: pass --token or set TESSERA_ADMIN_TOKEN")
        };
        let mut base = url.trim_end_matches('/').to_owned();
        if let Some(slug) = tenant {
            base = format!("{base}/t/{slug}");
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("tessera-cli/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base,
            token: token.to_owned(),
        })
    }

    /// Sends a request to `path` (below the tenant prefix) and returns the JSON answer
    /// (`null` for 204).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut request = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(&self.token)
            .query(query);
        if let Some(body) = body {
            let content_type = if method == Method::PATCH {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            request = request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(serde_json::to_vec(body)?);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = response.status();
        let text = response.text().await?;
        if status == StatusCode::NO_CONTENT {
            return Ok(Value::Null);
        }
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if !status.is_success() {
            bail!("{}", describe_problem(status, &value));
        }
        Ok(value)
    }
}

fn describe_problem(status: StatusCode, body: &Value) -> String {
    let title = body
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or(status.canonical_reason().unwrap_or("error"));
    let mut message = format!("{} {title}", status.as_u16());
    if let Some(detail) = body.get("detail").and_then(Value::as_str) {
        message.push_str(&format!(": {detail}"));
    }
    if let Some(id) = body.get("error_id").and_then(Value::as_str) {
        message.push_str(&format!(" (error id {id})"));
    }
    message
}
