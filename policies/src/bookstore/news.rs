//! The bookNews policy: a new book is announced to every member who had joined before
//! it; a restock to every member refused that book since its previous restock. Each
//! member is told once per book or per restock, also when an event is delivered again
//! or a worker stops in the middle of a fan-out: every notification is a command of its
//! own, keyed by the event and its recipient.
//!
//! It follows all its events in one sequence (one key), so a member who joined, or an
//! order refused, before a book's event is always recorded when that event is reacted
//! to; "before" is the order it reads the log in (transaction, then position), never
//! the position alone, which concurrent commits may take out of that order. What it remembers (members with the position they joined at, books' titles,
//! refused orders, restocks) sits in its own tables, each row written once, so the
//! recipients of an event are the same however often it is delivered.

use chrono::Utc;
use command_api::store::EventLog;
use cqrs_es::Aggregate;
use domain::bookstore::book::{Book, BookEvent};
use domain::bookstore::book_order::{BookOrder, BookOrderEvent};
use domain::bookstore::member::{Member, MemberEvent};
use domain::notifications::notification::{Notification, NotificationCommand};
use futures::future::BoxFuture;
use projections::bookstore::BookstoreEvent;
use projections::sql::Arg;
use projections::LogEvent;

use crate::issue::{derived_id, PolicyError, Reaction};
use crate::policy::{Issue, Policy};

const REMEMBER_MEMBER: &str = "
    INSERT INTO policy_bookstore_members (member_id, joined_transaction_id, joined_position)
    VALUES ($1, $2, $3) ON CONFLICT (member_id) DO NOTHING";
const REMEMBER_BOOK: &str = "
    INSERT INTO policy_bookstore_books (book_id, title) VALUES ($1, $2)
    ON CONFLICT (book_id) DO NOTHING";
const REMEMBER_REFUSAL: &str = "
    INSERT INTO policy_bookstore_refusals (order_id, book_id, member_id, transaction_id, position)
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (order_id) DO NOTHING";
const REMEMBER_RESTOCK: &str = "
    INSERT INTO policy_bookstore_restocks (book_id, transaction_id, position) VALUES ($1, $2, $3)
    ON CONFLICT (book_id, position) DO NOTHING";
/// Members who joined before the event at ($1, $2) in the order the policy reads the
/// log (transaction, then position).
const MEMBERS_BEFORE: &str = "
    SELECT member_id FROM policy_bookstore_members
     WHERE (joined_transaction_id, joined_position) < ($1, $2)
     ORDER BY member_id";
const TITLE_OF: &str = "SELECT title FROM policy_bookstore_books WHERE book_id = $1";
/// Members refused the book `$1` before its restock at ($2, $3), and after the restock
/// before that one (if any), in the order the policy reads the log.
const REFUSED_SINCE_RESTOCK: &str = "
    SELECT DISTINCT member_id FROM policy_bookstore_refusals f
     WHERE f.book_id = $1 AND (f.transaction_id, f.position) < ($2, $3)
       AND NOT EXISTS (
           SELECT 1 FROM policy_bookstore_restocks r
            WHERE r.book_id = $1 AND (r.transaction_id, r.position) < ($2, $3)
              AND (r.transaction_id, r.position) > (f.transaction_id, f.position))
     ORDER BY member_id";

/// The key every event of the policy shares: one sequence.
const ONE_SEQUENCE: &str = "catalogue";

pub(super) struct NewsPolicy;

/// A notification the policy sends.
#[derive(Debug, Clone, PartialEq)]
struct Notify {
    member_id: String,
    contents: String,
}

/// Who hears of a book event, and what: `recipients` are the members the policy looked
/// up for it, `title` the book's.
fn decide(event: &BookEvent, title: &str, recipients: Vec<String>) -> Vec<Notify> {
    let contents = match event {
        BookEvent::BookRegistered { .. } => format!("new book: {title}"),
        BookEvent::StockAdded { .. } => format!("{title} is back in stock"),
        BookEvent::StockTaken { .. } | BookEvent::StockReturned { .. } => return Vec::new(),
    };
    recipients
        .into_iter()
        .map(|member_id| Notify {
            member_id,
            contents: contents.clone(),
        })
        .collect()
}

impl<L: EventLog> Policy<L> for NewsPolicy {
    fn name(&self) -> &'static str {
        "bookNews"
    }

    fn reads(&self) -> &[&'static str] {
        &[Member::TYPE, Book::TYPE, BookOrder::TYPE]
    }

    fn key_of(&self, _: &LogEvent) -> Result<String, serde_json::Error> {
        Ok(ONE_SEQUENCE.to_string())
    }

    fn react<'a>(
        &'a self,
        reaction: &'a Reaction<'a, L>,
    ) -> BoxFuture<'a, Result<Vec<Issue<L>>, PolicyError>> {
        Box::pin(async move {
            let Some(event) = reaction.decode::<BookstoreEvent>()? else {
                return Ok(Vec::new());
            };
            let (transaction, position) = (reaction.event.transaction_id, reaction.event.position);
            let store = reaction.store();
            match event {
                BookstoreEvent::Member(MemberEvent::MemberJoined { member_id, .. }) => {
                    let args = [
                        Arg::Text(&member_id),
                        Arg::Int(transaction),
                        Arg::Int(position),
                    ];
                    store.execute(REMEMBER_MEMBER, &args).await?;
                    Ok(Vec::new())
                }
                BookstoreEvent::BookOrder(BookOrderEvent::OutOfStocked {
                    member_id,
                    book_id,
                    ..
                }) => {
                    let (order, book) = (&reaction.event.aggregate_id, book_id.to_string());
                    let args = [
                        Arg::Text(order),
                        Arg::Text(&book),
                        Arg::Text(&member_id),
                        Arg::Int(transaction),
                        Arg::Int(position),
                    ];
                    store.execute(REMEMBER_REFUSAL, &args).await?;
                    Ok(Vec::new())
                }
                BookstoreEvent::Book(book_event) => {
                    let book = &reaction.event.aggregate_id;
                    let recipients = match &book_event {
                        BookEvent::BookRegistered { title, .. } => {
                            let args = [Arg::Text(book), Arg::Text(title)];
                            store.execute(REMEMBER_BOOK, &args).await?;
                            let at = [Arg::Int(transaction), Arg::Int(position)];
                            store.fetch_texts(MEMBERS_BEFORE, &at).await?
                        }
                        BookEvent::StockAdded { .. } => {
                            let args = [Arg::Text(book), Arg::Int(transaction), Arg::Int(position)];
                            store.execute(REMEMBER_RESTOCK, &args).await?;
                            store.fetch_texts(REFUSED_SINCE_RESTOCK, &args).await?
                        }
                        _ => return Ok(Vec::new()),
                    };
                    let title = store
                        .fetch_text(TITLE_OF, &[Arg::Text(book)])
                        .await?
                        .unwrap_or_default();
                    let cause = reaction.event.event_type.clone();
                    let event_id = reaction.event_id();
                    Ok(decide(&book_event, &title, recipients)
                        .into_iter()
                        .map(|notify| notification(&event_id, &cause, notify))
                        .collect())
                }
                _ => Ok(Vec::new()),
            }
        })
    }
}

/// The command that tells one member, under an id that follows from the event and the
/// member.
fn notification<L: EventLog>(event_id: &str, cause: &str, notify: Notify) -> Issue<L> {
    let id = derived_id(
        "notification for event",
        format!("{event_id} {}", notify.member_id),
    );
    let command = NotificationCommand::SendNotification {
        user_id: notify.member_id.clone(),
        contents: notify.contents,
        cause: cause.to_string(),
        sent_at: Utc::now(),
    };
    // A new stream (its id follows from the event): decided without a load, so the
    // notices of one event reach the group commit together.
    Issue::on_new_stream::<Notification>(id, command).one_of_many(notify.member_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_book_and_a_restock_tell_each_recipient_once() {
        let registered = BookEvent::BookRegistered {
            title: "데미안".into(),
            author: "Hesse".into(),
            price: 1,
            stock: 0,
            registered_at: Utc::now(),
        };
        let told = decide(&registered, "데미안", vec!["kim".into(), "lee".into()]);
        assert_eq!(told.len(), 2);
        assert_eq!(told[0].contents, "new book: 데미안");
        let restocked = BookEvent::StockAdded {
            qty: 1,
            added_at: Utc::now(),
        };
        let told = decide(&restocked, "데미안", vec!["kim".into()]);
        assert_eq!(
            told,
            [Notify {
                member_id: "kim".into(),
                contents: "데미안 is back in stock".into()
            }]
        );
        assert_eq!(decide(&restocked, "데미안", Vec::new()), []);
    }
}
