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
        if query.kinds.len() > 50 {
            return Err(CoreError::invalid("type", "at most 50 event types"));
        }
        Ok(self
            .store
            .list_events(auth.tenant_id(), query, page)
            .await?)
    }
}
