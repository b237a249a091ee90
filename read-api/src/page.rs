//! Keyset pagination: a page is the rows after a key, in key order, so reading page
//! 1,000 costs what page 1 does and rows inserted meanwhile neither repeat nor vanish.
//! The cursor is the last row's key, base64url-encoded: opaque to clients, who only
//! hand it back.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use utoipa::ToSchema;

/// Rows per page when the client names no `limit`.
pub const DEFAULT_LIMIT: i64 = 50;
/// The largest `limit` a client may ask for.
pub const MAX_LIMIT: i64 = 500;

/// A page of rows: `next` is the cursor of the following page, absent on the last.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows read in key order: the extra row, if
    /// there is one, only tells that another page follows.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> &str) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next = if more {
            rows.last().map(|row| encode_cursor(key(row)))
        } else {
            None
        };
        Self { items: rows, next }
    }
}

pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

/// The key a cursor stands for, or `None` if it is not one this API made.
pub fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    // A key with a NUL names no row, and no text column can hold one.
    String::from_utf8(bytes)
        .ok()
        .filter(|key| !key.is_empty() && !key.contains('\0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_holding_a_nul_is_no_cursor() {
        assert_eq!(decode_cursor("AA"), None);
    }

    #[test]
    fn a_cursor_decodes_to_the_key_it_was_made_from() {
        let key = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        assert_eq!(decode_cursor(&encode_cursor(key)).as_deref(), Some(key));
    }

    #[test]
    fn a_cursor_this_api_did_not_make_is_refused() {
        assert_eq!(decode_cursor("not base64!"), None);
        assert_eq!(decode_cursor(""), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode([0xff, 0xfe])), None);
    }

    #[test]
    fn the_last_page_has_no_next_cursor() {
        let keys = |n: usize| (0..n).map(|i| format!("k{i}")).collect::<Vec<_>>();
        let page = Page::from_rows(keys(3), 2, String::as_str);
        assert_eq!(page.items, ["k0", "k1"]);
        assert_eq!(
            page.next.as_deref().and_then(decode_cursor).as_deref(),
            Some("k1")
        );
        let last = Page::from_rows(keys(2), 2, String::as_str);
        assert_eq!(last.next, None);
    }
}
