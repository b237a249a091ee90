//! The mypage is composed of sections, one per context that has something to show a
//! user (SPEC §3). A section is a view of its own, keyed by the user: the page reads
//! each section's rows and names them by the section's field.

use std::marker::PhantomData;

use futures::future::BoxFuture;
use projections::table::ViewRow;
use projections::View;
use serde_json::value::{to_raw_value, RawValue};
use utoipa::openapi::{schema, RefOr, Schema};
use utoipa::PartialSchema;

use crate::store::{Arg, RowQuery, ViewStore};

/// One section of the mypage.
pub trait MypageSection: Send + Sync {
    /// The field of the mypage document the section fills (`orders`).
    fn field(&self) -> &'static str;

    /// The view the section is read from.
    fn view(&self) -> &'static dyn View;

    /// The table of the view the section's rows are in: keyed by `user_id`, each row
    /// with the `position` of its latest change (indexed, for the live streams).
    fn table(&self) -> &'static str {
        self.view().tables()[0]
    }

    /// The user's rows, and the view's position when they were read.
    fn read<'a>(
        &'a self,
        store: &'a ViewStore,
        user_id: &'a str,
    ) -> BoxFuture<'a, Result<SectionRows, sqlx::Error>>;

    /// The section's schema in the OpenAPI document.
    fn schema(&self) -> RefOr<Schema>;
}

/// What a section read.
pub struct SectionRows {
    /// The rows, as the API shows them (serialized once, fields in their order).
    pub rows: Box<RawValue>,
    /// The view's position when read.
    pub view_position: i64,
    /// The position and `updatedAt` of the section's latest change, if it has rows.
    pub latest: Option<(i64, String)>,
    /// Where the rest of a list is, when the section shows only its latest rows.
    pub more: Option<String>,
}

/// The most rows a list of the mypage holds: the latest; the list endpoints page the
/// rest (SPEC §3).
pub const SECTION_ROWS: i64 = 100;

/// A section that shows the user's rows of a view's table (the table has a `user_id`
/// column naming the owner): a list, or the one row (or null) of a view that keeps one
/// per user.
pub struct RowsSection<R> {
    field: &'static str,
    view: &'static dyn View,
    /// Latest first.
    order_by: &'static str,
    /// The list endpoint of the rest, up to the user's id (`/orderLists?customerId=`);
    /// `None` for a section of one row.
    more: Option<&'static str>,
    row: PhantomData<fn() -> R>,
}

impl<R> RowsSection<R> {
    /// `field` lists the user's latest rows of `view`'s table in `order_by` order
    /// (latest first), at most [`SECTION_ROWS`]; `more`, followed by the user's id, is
    /// the list endpoint of them all.
    pub const fn new(
        field: &'static str,
        view: &'static dyn View,
        order_by: &'static str,
        more: &'static str,
    ) -> Self {
        Self {
            field,
            view,
            order_by,
            more: Some(more),
            row: PhantomData,
        }
    }

    /// `field` is the user's one row of `view`'s table, or null before there is one.
    pub const fn single(field: &'static str, view: &'static dyn View) -> Self {
        Self {
            field,
            view,
            order_by: "position",
            more: None,
            row: PhantomData,
        }
    }
}

impl<R: ViewRow + PartialSchema> MypageSection for RowsSection<R> {
    fn field(&self) -> &'static str {
        self.field
    }

    fn view(&self) -> &'static dyn View {
        self.view
    }

    fn read<'a>(
        &'a self,
        store: &'a ViewStore,
        user_id: &'a str,
    ) -> BoxFuture<'a, Result<SectionRows, sqlx::Error>> {
        Box::pin(async move {
            let query = RowQuery {
                table: self.table(),
                filters: vec![("user_id", Arg::Text(user_id.to_string()))],
                conditions: Vec::new(),
                after: None,
                order_by: self.order_by,
                limit: Some(if self.more.is_some() {
                    SECTION_ROWS + 1
                } else {
                    1
                }),
            };
            let (mut rows, view_position) = store.rows::<R>(self.view.name(), &query).await?;
            let more = match self.more {
                Some(list) if rows.len() as i64 > SECTION_ROWS => {
                    rows.truncate(SECTION_ROWS as usize);
                    let user: String =
                        form_urlencoded::byte_serialize(user_id.as_bytes()).collect();
                    Some(format!("{list}{user}"))
                }
                _ => None,
            };
            let latest = rows
                .iter()
                .map(|row| (row.position(), row.updated_at().to_string()))
                .max();
            let rows = match self.more {
                None => to_raw_value(&rows.first()),
                Some(_) => to_raw_value(&rows),
            }
            .map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
            Ok(SectionRows {
                rows,
                view_position,
                latest,
                more,
            })
        })
    }

    fn schema(&self) -> RefOr<Schema> {
        match self.more {
            // One row, or null before the user has one.
            None => schema::OneOfBuilder::new()
                .item(schema::ObjectBuilder::new().schema_type(schema::Type::Null))
                .item(R::schema())
                .into(),
            Some(_) => schema::ArrayBuilder::new().items(R::schema()).into(),
        }
    }
}
