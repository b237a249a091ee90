//! What a bounded context hands the read API: its read routes, their OpenAPI, and its
//! sections of the mypage. The binary collects one [`Reads`] per context; nothing here
//! names a context.

use utoipa::openapi::OpenApi;
use utoipa::OpenApi as _;

use crate::http::{ApiDoc, ReadState};
use crate::mypage::MypageSection;

/// One context's part of the read API.
#[derive(Clone)]
pub struct Reads {
    /// Its read routes, without the cross-cutting layers.
    pub routes: axum::Router<ReadState>,
    /// The OpenAPI of those routes.
    pub openapi: OpenApi,
    /// What it shows on a user's mypage.
    pub mypage: Vec<&'static dyn MypageSection>,
}

/// The read API's OpenAPI document: its own part (the mypage), every context's reads,
/// and the mypage's sections in its schema.
pub fn openapi(contexts: &[Reads]) -> OpenApi {
    let mut doc = contexts.iter().fold(ApiDoc::openapi(), |doc, context| {
        doc.merge_from(context.openapi.clone())
    });
    let sections: Vec<_> = contexts.iter().flat_map(|c| c.mypage.clone()).collect();
    crate::http::document_sections(&mut doc, &sections);
    doc
}
