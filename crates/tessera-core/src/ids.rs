//! Identifier newtypes. All are UUIDv7 so that ids sort by creation time, which the
//! cursor pagination relies on; they are minted from the `Clock`, never the system time.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use time::OffsetDateTime;
use uuid::timestamp::context::ContextV7;
use uuid::{Timestamp, Uuid};

/// Keeps ids made in this process strictly increasing, even within one millisecond, so that
/// events sort in the order they happened.
static SEQUENCE: Mutex<ContextV7> = Mutex::new(ContextV7::new());

/// Makes a UUIDv7 for the instant `at`.
pub fn uuid_v7_at(at: OffsetDateTime) -> Uuid {
    let nanos = at.unix_timestamp_nanos();
    let seconds = u64::try_from(nanos.div_euclid(1_000_000_000)).unwrap_or(0);
    let subsec = u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0);
    Uuid::new_v7(Timestamp::from_unix(&SEQUENCE, seconds, subsec))
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new id for something created at `at`.
            pub fn new_at(at: OffsetDateTime) -> Self {
                Self(uuid_v7_at(at))
            }
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_in_one_instant_still_increase() {
        let at = time::macros::datetime!(2026-01-01 0:00 UTC);
        let ids: Vec<Uuid> = (0..1000).map(|_| uuid_v7_at(at)).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
    }
}

id_type!(
    /// A tenant: a brand or organisation whose users, clients and settings are isolated.
    TenantId
);
id_type!(
    /// A user (customer) of one tenant.
    UserId
);
id_type!(
    /// A row of the event log (audit trail and outbox).
    EventId
);
id_type!(
    /// An admin API token.
    ApiTokenId
);
id_type!(
    /// A client (relying party) of the OpenID Connect provider; its text is the `client_id`.
    ClientId
);
id_type!(
    /// A sign-in session of a user's browser.
    SessionId
);
id_type!(
    /// A grant: what one authorization gave one client, and the family of tokens issued from it.
    GrantId
);
id_type!(
    /// A group of users of one tenant.
    GroupId
);
id_type!(
    /// A pending self sign-up (the challenge that proves the address).
    SignUpId
);
id_type!(
    /// An invitation to an email address.
    InvitationId
);
id_type!(
    /// A second factor a user enrolled (an authenticator app).
    MfaFactorId
);
id_type!(
    /// A sign-in waiting for its second factor.
    SignInChallengeId
);
id_type!(
    /// A browser a user chose to trust for their second factor.
    TrustedDeviceId
);
id_type!(
    /// A pending phone verification (the challenge that proves a user holds a number).
    PhoneVerificationId
);
id_type!(
    /// An identity verification session at an external provider; its text is the
    /// `reference` the provider's webhook names.
    IdentitySessionId
);
id_type!(
    /// A stored identity verification result (verified claims and their evidence).
    IdentityVerificationId
);
