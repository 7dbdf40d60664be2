//! Outbound HTTP: back-channel logout delivery and the services' [`OutboundClient`] port
//! (identity verification providers), with SSRF protection. Destinations are checked after
//! DNS resolution (a custom resolver drops non-public addresses) and IP literals before
//! sending; redirects are never followed. Configuration may allow private addresses (a
//! relying party on the same network, or tests on loopback).

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use secrecy::ExposeSecret;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tessera_core::outbound::{
    MAX_ANSWER_BYTES, OutboundAnswer, OutboundClient, OutboundError, is_public,
};
use tessera_oidc::provider::LogoutNotice;
use tessera_web::Outbound;

/// Back-channel logout requests give up after this long (Back-Channel Logout §2.8 asks
/// the OP not to wait long).
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct OutboundHttp {
    client: reqwest::Client,
    allow_private: bool,
}

/// Resolves names and keeps only the addresses outbound requests may reach.
#[derive(Debug)]
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = found
                .filter(|address| allow_private || is_public(address.ip()))
                .collect();
            if allowed.is_empty() {
                return Err("the destination resolves to no public address".into());
            }
            let addresses: Addrs = Box::new(allowed.into_iter());
            Ok(addresses)
        })
    }
}

impl OutboundHttp {
    pub fn new(allow_private: bool) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve and connect on our behalf, past the address check.
            .no_proxy()
            .timeout(TIMEOUT)
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            .user_agent(concat!("Tessera/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            allow_private,
        })
    }

    /// Whether a URL may be requested at all: IP literals skip the resolver.
    fn permits(&self, url: &reqwest::Url) -> bool {
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.allow_private || is_public(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.allow_private || is_public(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => true,
            None => false,
        }
    }
}

impl Outbound for OutboundHttp {
    fn send_logout_tokens(&self, notices: Vec<LogoutNotice>) {
        for notice in notices {
            let this = self.clone();
            tokio::spawn(async move { this.deliver(notice).await });
        }
    }
}

impl OutboundHttp {
    async fn deliver(&self, notice: LogoutNotice) {
        let client_id = notice.client_id.to_string();
        let Ok(url) = reqwest::Url::parse(&notice.uri) else {
            return;
        };
        if !self.permits(&url) {
            tracing::warn!(
                client_id,
                "back-channel logout refused: the URI is not a public address"
            );
            return;
        }
        let result = self
            .client
            .post(url)
            .form(&[("logout_token", notice.logout_token.as_str())])
            .send()
            .await;
        match result {
            Ok(response) if response.status().is_success() => {
                tracing::info!(client_id, "back-channel logout delivered");
            }
            Ok(response) => tracing::warn!(
                client_id,
                status = response.status().as_u16(),
                "back-channel logout refused by the client"
            ),
            // The error names the host, never the token.
            Err(error) => {
                tracing::warn!(client_id, error = %error.without_url(), "back-channel logout failed")
            }
        }
    }
}

#[async_trait::async_trait]
impl OutboundClient for OutboundHttp {
    async fn post_json(
        &self,
        url: &reqwest::Url,
        bearer: &secrecy::SecretString,
        body: &serde_json::Value,
    ) -> Result<OutboundAnswer, OutboundError> {
        // Errors name the host, never the URL (its query may hold a key) or the token.
        let host = url.host_str().unwrap_or("?").to_owned();
        if !self.permits(url) {
            return Err(OutboundError::Refused(host));
        }
        let failed = |error: reqwest::Error| {
            OutboundError::Failed(format!("{host}: {}", error.without_url()))
        };
        let mut response = self
            .client
            .post(url.clone())
            .bearer_auth(bearer.expose_secret())
            .json(body)
            .send()
            .await
            .map_err(failed)?;
        let status = response.status().as_u16();
        let mut answer = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if answer.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(OutboundError::TooLarge(host));
            }
            answer.extend_from_slice(&chunk);
        }
        Ok(OutboundAnswer {
            status,
            body: answer,
        })
    }
}
