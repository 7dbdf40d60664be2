//! Cursor pagination shared by every list: items are ordered by their UUIDv7 id, and the
//! cursor is the last id of the previous page, so pages stay stable while rows are added.

use uuid::Uuid;

/// The largest page any list returns, whatever was asked.
pub const MAX_PAGE_SIZE: u32 = 200;
/// The page size when none is asked.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// Which page to read: at most `limit` items strictly after `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<Uuid>,
    pub limit: u32,
}

impl PageRequest {
    /// A request with its limit clamped to `1..=MAX_PAGE_SIZE`.
    pub fn new(after: Option<Uuid>, limit: Option<u32>) -> Self {
        let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
        Self { after, limit }
    }

    /// The store reads one more row than asked, to know whether a next page exists.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::new(None, None)
    }
}

/// One page of results and the cursor of the next one, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_after: Option<Uuid>,
}

impl<T> Page<T> {
    /// Cuts a result fetched with `fetch_limit` down to the page and finds the next cursor.
    pub fn from_overfetch(
        mut items: Vec<T>,
        request: PageRequest,
        id_of: impl Fn(&T) -> Uuid,
    ) -> Self {
        let limit = request.limit as usize;
        let next_after = if items.len() > limit {
            items.truncate(limit);
            items.last().map(&id_of)
        } else {
            None
        };
        Self { items, next_after }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_clamped() {
        assert_eq!(PageRequest::new(None, Some(0)).limit, 1);
        assert_eq!(PageRequest::new(None, Some(1_000_000)).limit, MAX_PAGE_SIZE);
        assert_eq!(PageRequest::new(None, None).limit, DEFAULT_PAGE_SIZE);
    }

    #[test]
    fn overfetch_yields_cursor_only_when_more_exist() {
        let ids: Vec<Uuid> = (0..3u128).map(Uuid::from_u128).collect();
        let request = PageRequest::new(None, Some(2));
        let page = Page::from_overfetch(ids.clone(), request, |id| *id);
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next_after, Some(ids[1]));
        let last = Page::from_overfetch(ids[..2].to_vec(), request, |id| *id);
        assert_eq!(last.next_after, None);
    }
}
