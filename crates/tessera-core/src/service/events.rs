//! Reading the event log.

use super::Core;
use crate::auth::Authorized;
use crate::error::CoreError;
use crate::event::{Event, EventQuery};
use crate::page::{Page, PageRequest};

impl Core {
    pub async fn list_events(
        &self,
        auth: &Authorized,
        query: &EventQuery,
        page: PageRequest,
    ) -> Result<Page<Event>, CoreError> {
        let has_control = |text: &String| text.len() > 200 || text.chars().any(char::is_control);
        if query.kinds.iter().any(has_control) || query.subject.as_ref().is_some_and(has_control) {
            return Err(CoreError::invalid(
                "subject",
                "at most 200 characters, no control characters",
            ));
        }
        if query.kinds.len() > 50 {
            return Err(CoreError::invalid("type", "at most 50 event types"));
        }
        Ok(self
            .parts
            .store
            .list_events(auth.tenant_id(), query, page)
            .await?)
    }
}
