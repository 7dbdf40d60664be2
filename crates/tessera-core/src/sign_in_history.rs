//! The sign-in history the risk engine compares each attempt with: successful sign-ins
//! (device, place, time) and failed attempts per client IP. Turning records into the
//! engine's [`SignInHistory`] is a pure function here; the store keeps and counts them.

use crate::ids::{TenantId, UserId};
use crate::risk::{CountryCode, GeoPoint, PreviousSignIn, SignInHistory};
use crate::secret::SecretHash;
use crate::store::StoreResult;
use time::OffsetDateTime;

/// Most past sign-ins read for one assessment: enough for a stable hour profile and the
/// places and browsers a user really uses, few enough to read on every attempt.
pub const HISTORY_LIMIT: u32 = 100;
/// How long successful sign-ins are kept.
pub const HISTORY_RETENTION: time::Duration = time::Duration::days(366);
/// How long failed attempts per IP are kept.
pub const FAILURE_RETENTION: time::Duration = time::Duration::days(1);

/// One successful sign-in.
#[derive(Debug, Clone, PartialEq)]
pub struct SignInRecord {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub at: OffsetDateTime,
    /// The digest of the browser's device cookie.
    pub device: Option<SecretHash>,
    /// Where GeoIP placed the address, if it could.
    pub geo: Option<GeoPoint>,
}

/// The history of `records` (newest first) as the risk engine takes it.
pub fn history_of(records: &[SignInRecord]) -> SignInHistory {
    let mut history = SignInHistory::default();
    for record in records {
        if let Some(geo) = record.geo {
            if let Some(country) = geo.country
                && !history.known_countries.contains(&country)
            {
                history.known_countries.push(country);
            }
            if let Some(asn) = geo.asn
                && !history.known_asns.contains(&asn)
            {
                history.known_asns.push(asn);
            }
        }
        let hour = usize::from(record.at.hour());
        if let Some(count) = history.hour_counts.get_mut(hour) {
            *count += 1;
        }
    }
    history.last = records.first().map(|record| PreviousSignIn {
        at: record.at,
        geo: record.geo,
    });
    history
}

/// Whether the user signed in from the browser holding `device` before.
pub fn device_known(records: &[SignInRecord], device: Option<&SecretHash>) -> bool {
    device.is_some_and(|device| records.iter().any(|r| r.device.as_ref() == Some(device)))
}

/// The country of a record, for events and mails.
pub fn country_of(geo: Option<&GeoPoint>) -> Option<CountryCode> {
    geo.and_then(|g| g.country)
}

/// Successful sign-ins and failed attempts in storage.
#[async_trait::async_trait]
pub trait SignInHistoryStore {
    async fn record_sign_in(&self, record: &SignInRecord) -> StoreResult<()>;
    /// The user's sign-ins since `since`, newest first, at most `limit`.
    async fn recent_sign_ins(
        &self,
        tenant: TenantId,
        user: UserId,
        since: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<SignInRecord>>;
    /// Records a failed attempt from `ip`, on `user` when the attempt named an account.
    async fn record_failed_sign_in(
        &self,
        tenant: TenantId,
        ip: Option<&str>,
        user: Option<UserId>,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Failed attempts on `user` since `since`, from anywhere.
    async fn failed_sign_ins_of(
        &self,
        tenant: TenantId,
        user: UserId,
        since: OffsetDateTime,
    ) -> StoreResult<u32>;
    /// Failed attempts from `ip` since `since`, any account.
    async fn failed_sign_ins_from(
        &self,
        tenant: TenantId,
        ip: &str,
        since: OffsetDateTime,
    ) -> StoreResult<u32>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::Coordinates;
    use time::macros::datetime;

    fn record(at: OffsetDateTime, country: &str, asn: u32, device: &str) -> SignInRecord {
        let t = datetime!(2026-01-01 0:00 UTC);
        SignInRecord {
            tenant_id: TenantId::new_at(t),
            user_id: UserId::new_at(t),
            at,
            device: Some(SecretHash::of_str(device)),
            geo: Some(GeoPoint {
                country: CountryCode::parse(country),
                asn: Some(asn),
                coordinates: Coordinates::new(52.5, 13.4),
            }),
        }
    }

    #[test]
    fn the_history_knows_places_hours_and_the_last_sign_in() {
        let records = [
            record(datetime!(2026-11-02 09:10 UTC), "DE", 3320, "a"),
            record(datetime!(2026-11-01 21:00 UTC), "FR", 3215, "b"),
            record(datetime!(2026-10-30 09:40 UTC), "DE", 3320, "a"),
        ];
        let history = history_of(&records);
        assert_eq!(history.known_countries.len(), 2);
        assert_eq!(history.known_asns, [3320, 3215]);
        assert_eq!(history.hour_counts[9], 2);
        assert_eq!(history.hour_counts[21], 1);
        assert_eq!(history.last.unwrap().at, records[0].at);
        assert!(device_known(&records, Some(&SecretHash::of_str("b"))));
        assert!(!device_known(&records, Some(&SecretHash::of_str("c"))));
        assert!(!device_known(&records, None));
        assert!(history_of(&[]).is_empty());
    }
}
