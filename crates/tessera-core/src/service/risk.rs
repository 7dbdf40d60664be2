//! Gathering a sign-in's risk signals (device cookie, GeoIP, history, failure counts, IP
//! lists, the password's presence on the common list) for the pure risk engine, and
//! recording what the next assessment compares with.

use super::Core;
use super::sign_in::SignInContext;
use crate::error::CoreError;
use crate::notify::Notice;
use crate::risk::{GeoAvailability, GeoLookup, GeoLookupOff, IpList, RiskAssessment, RiskSignals};
use crate::secret::SecretHash;
use crate::sign_in_history::{HISTORY_LIMIT, SignInRecord, device_known, history_of};
use crate::tenant::Tenant;
use crate::user::User;
use std::net::IpAddr;
use std::sync::Arc;
use time::Duration;

/// What the risk engine reads besides the store: GeoIP and the configured IP lists.
pub struct RiskSources {
    pub geo: Arc<dyn GeoLookup>,
    pub deny_list: Option<IpList>,
    pub tor_exits: Option<IpList>,
}

impl std::fmt::Debug for RiskSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RiskSources")
            .field("geo", &self.geo.is_enabled())
            .field("deny_list", &self.deny_list.as_ref().map(IpList::len))
            .field("tor_exits", &self.tor_exits.as_ref().map(IpList::len))
            .finish()
    }
}

impl Default for RiskSources {
    fn default() -> Self {
        Self {
            geo: Arc::new(GeoLookupOff),
            deny_list: None,
            tor_exits: None,
        }
    }
}

fn ip_of(context: &SignInContext) -> Option<IpAddr> {
    context.ip.as_deref().and_then(|ip| ip.parse().ok())
}

impl Core {
    /// Sets GeoIP and the IP lists once at wiring; false if they were set already.
    pub fn set_risk_sources(&self, sources: RiskSources) -> bool {
        self.parts.risk_sources.set(Arc::new(sources)).is_ok()
    }

    fn risk_sources(&self) -> Arc<RiskSources> {
        self.parts
            .risk_sources
            .get()
            .cloned()
            .unwrap_or_else(|| Arc::new(RiskSources::default()))
    }

    /// Weighs a sign-in attempt of `user` (unknown users too, from what the attempt shows).
    pub(crate) async fn assess_sign_in(
        &self,
        tenant: &Tenant,
        user: Option<&User>,
        context: &SignInContext,
        password: Option<&str>,
    ) -> Result<RiskAssessment, CoreError> {
        let policy = tenant.settings.risk;
        if !policy.enabled {
            return Ok(RiskAssessment {
                score: 0,
                reasons: Vec::new(),
                decision: crate::risk::RiskDecision::Allow,
            });
        }
        let now = self.parts.clock.now();
        let sources = self.risk_sources();
        let ip = ip_of(context);
        let geo = match ip {
            Some(ip) => sources.geo.availability(ip),
            None if sources.geo.is_enabled() => GeoAvailability::Unknown,
            None => GeoAvailability::Off,
        };
        let records = match user {
            Some(user) => {
                let since = now - Duration::days(policy.history_days.into());
                self.parts
                    .store
                    .recent_sign_ins(tenant.id, user.id, since, HISTORY_LIMIT)
                    .await?
            }
            None => Vec::new(),
        };
        let window = now - Duration::minutes(policy.failure_window_minutes.into());
        let account_failures = match user {
            Some(user) => {
                self.parts
                    .store
                    .failed_sign_ins_of(tenant.id, user.id, window)
                    .await?
            }
            None => 0,
        };
        let ip_failures = match &context.ip {
            Some(ip) => {
                self.parts
                    .store
                    .failed_sign_ins_from(tenant.id, ip, window)
                    .await?
            }
            None => 0,
        };
        let device = context.device.as_deref().map(SecretHash::of_str);
        let listed = |list: &Option<IpList>| {
            ip.zip(list.as_ref())
                .is_some_and(|(ip, list)| list.contains(ip))
        };
        let signals = RiskSignals {
            device_known: device_known(&records, device.as_ref()),
            geo,
            history: history_of(&records),
            account_failures,
            ip_failures,
            ip_deny_listed: listed(&sources.deny_list),
            tor_exit: listed(&sources.tor_exits),
            password_breached: password.is_some_and(crate::password::blocklist::is_common),
            at: now,
        };
        Ok(crate::risk::assess(&signals, &policy))
    }

    /// Counts a failed attempt from the context's address on `user` (if the attempt named
    /// an account), for the next assessments' failure velocities.
    pub(crate) async fn record_failed_attempt(
        &self,
        context: &SignInContext,
        user: Option<&User>,
    ) -> Result<(), CoreError> {
        self.parts
            .store
            .record_failed_sign_in(
                context.tenant_id,
                context.ip.as_deref(),
                user.map(|u| u.id),
                self.parts.clock.now(),
            )
            .await?;
        Ok(())
    }

    /// Remembers a successful sign-in for the next assessments and, when it came from a
    /// browser this user never signed in from, tells them (if the tenant wants that).
    pub(crate) async fn record_sign_in(
        &self,
        context: &SignInContext,
        user: &User,
    ) -> Result<(), CoreError> {
        let Some(tenant) = self.tenant_by_id(user.tenant_id).await? else {
            return Ok(());
        };
        let now = self.parts.clock.now();
        let device = context.device.as_deref().map(SecretHash::of_str);
        let since = now - Duration::days(tenant.settings.risk.history_days.into());
        let earlier = self
            .parts
            .store
            .recent_sign_ins(tenant.id, user.id, since, HISTORY_LIMIT)
            .await?;
        let new_device = !earlier.is_empty() && !device_known(&earlier, device.as_ref());
        let geo = ip_of(context).and_then(|ip| self.risk_sources().geo.locate(ip));
        self.parts
            .store
            .record_sign_in(&SignInRecord {
                tenant_id: tenant.id,
                user_id: user.id,
                at: now,
                device,
                geo,
            })
            .await?;
        if new_device && tenant.settings.new_device_alerts {
            let notice = Notice::NewDeviceSignIn {
                at: now,
                ip: context.ip.clone(),
                browser: context.user_agent.clone(),
                country: geo.and_then(|g| g.country).map(|c| c.as_str().to_owned()),
            };
            self.notify_in_background(&tenant, user, notice);
        }
        Ok(())
    }
}
