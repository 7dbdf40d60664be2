//! The risk engine of adaptive authentication: every sign-in attempt is weighed from its
//! signals (device, place, travel, failure counts, IP lists, breached password, hour of
//! day) into a score from 0 to 100 with its reasons, and the tenant's [`RiskPolicy`] turns
//! the score into a decision: allow, ask for a captcha, ask for a second factor, or block.
//!
//! [`assess`] is a pure function; gathering the signals (the device cookie, GeoIP through
//! the [`GeoLookup`] port, counters and history from the store, the [`IpList`]s) is the
//! caller's. The assessment serialises to stable snake_case codes for the sign-in event.

mod engine;
mod geo;
mod ip_list;
mod policy;
mod signals;

pub use engine::{RiskAssessment, RiskDecision, RiskReason, assess};
pub use geo::{GeoLookup, GeoLookupOff};
pub use ip_list::{IpList, IpListError, MAX_ENTRIES as MAX_IP_LIST_ENTRIES};
pub use policy::{FailureVelocity, RiskPolicy, RiskWeights, TravelRule, UnusualHourRule};
pub use signals::{
    Coordinates, CountryCode, GeoAvailability, GeoPoint, PreviousSignIn, RiskSignals, SignInHistory,
};

#[cfg(test)]
mod tests;
