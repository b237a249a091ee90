//! The notifications context's reads: `GET /notifications`, and the mypage's
//! `notifications` (the user's 20 latest, latest first).

mod notification_list;

use projections::notifications::{NotificationRow, MYPAGE_NOTIFICATIONS};
use utoipa::OpenApi;

use crate::mypage::RowsSection;
use crate::registry::Reads;

/// The mypage's `notifications`: the user's latest, latest first.
static LATEST: RowsSection<NotificationRow> = RowsSection::new(
    "notifications",
    &MYPAGE_NOTIFICATIONS,
    "send_dtm DESC, position DESC",
    "/notifications?userId=",
);

/// The notifications context's reads.
pub fn reads() -> Reads {
    Reads {
        routes: notification_list::router(),
        openapi: NotificationsDoc::openapi(),
        mypage: vec![&LATEST],
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(notification_list::list),
    tags((name = "notifications", description = "What users were told"))
)]
struct NotificationsDoc;
