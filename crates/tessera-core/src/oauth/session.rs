//! Sign-in sessions: server-side, found by the digest of the random id in the browser's
//! cookie. One session serves every client of its tenant (single sign-on).

use crate::ids::{SessionId, TenantId, UserId};
use crate::secret::SecretHash;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// How long sessions live in a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionLifetimes {
    /// Seconds without activity after which the session ends.
    pub idle_seconds: u32,
    /// Seconds after sign-in after which the session ends whatever happens.
    pub absolute_seconds: u32,
}

impl Default for SessionLifetimes {
    fn default() -> Self {
        Self {
            idle_seconds: 24 * 3600,
            absolute_seconds: 14 * 24 * 3600,
        }
    }
}

/// Activity is written at most this often, so that busy sessions do not become a write load.
pub const TOUCH_INTERVAL: Duration = Duration::minutes(1);

/// How the user proved who they are, for `amr`, `acr` and step-up decisions.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Authentication {
    /// When the user last authenticated actively (`auth_time`).
    pub at: Option<OffsetDateTime>,
    /// RFC 8176 method references, e.g. `pwd`, `otp`, `hwk`.
    pub methods: Vec<String>,
    /// The authentication context class reached.
    pub acr: String,
}

/// A browser's sign-in session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: SessionId,
    /// Digest of the cookie value; the value itself is never stored.
    pub secret_hash: SecretHash,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub authentication: Authentication,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub idle_expires_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub ended_at: Option<OffsetDateTime>,
}

impl Session {
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.ended_at.is_none() && now < self.idle_expires_at && now < self.expires_at
    }

    /// The new idle expiry if activity at `now` should be recorded, `None` if the last
    /// record is recent enough.
    pub fn touch(
        &self,
        now: OffsetDateTime,
        lifetimes: SessionLifetimes,
    ) -> Option<OffsetDateTime> {
        (now - self.last_seen_at >= TOUCH_INTERVAL)
            .then(|| (now + Duration::seconds(lifetimes.idle_seconds.into())).min(self.expires_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn session(at: OffsetDateTime) -> Session {
        Session {
            id: SessionId::new_at(at),
            secret_hash: SecretHash::of_str("x"),
            tenant_id: TenantId::new_at(at),
            user_id: UserId::new_at(at),
            authentication: Authentication::default(),
            created_at: at,
            last_seen_at: at,
            idle_expires_at: at + Duration::hours(1),
            expires_at: at + Duration::hours(2),
            ip: None,
            user_agent: None,
            ended_at: None,
        }
    }

    #[test]
    fn sessions_end_at_idle_or_absolute_expiry_or_logout() {
        let at = datetime!(2026-01-01 0:00 UTC);
        let s = session(at);
        assert!(s.is_active(at + Duration::minutes(59)));
        assert!(!s.is_active(at + Duration::hours(1)));
        let ended = Session {
            ended_at: Some(at),
            ..s
        };
        assert!(!ended.is_active(at));
    }

    #[test]
    fn activity_is_recorded_at_most_once_a_minute_and_never_past_the_absolute_end() {
        let at = datetime!(2026-01-01 0:00 UTC);
        let s = session(at);
        let lifetimes = SessionLifetimes {
            idle_seconds: 3600,
            absolute_seconds: 7200,
        };
        assert_eq!(s.touch(at + Duration::seconds(30), lifetimes), None);
        assert_eq!(
            s.touch(at + Duration::minutes(2), lifetimes),
            Some(at + Duration::minutes(62))
        );
        assert_eq!(
            s.touch(at + Duration::minutes(90), lifetimes),
            Some(at + Duration::hours(2))
        );
    }
}
