//! HTML views of the OGC API - Features resources (landing page, collections, one collection, items,
//! one item) for people in a browser: the same JSON document each route answers, rendered through
//! minijinja templates (`templates/`), in Vietnamese or English, with a small map of the features.
//!
//! HTML is chosen by `f=html`, or by a browser's `Accept` (text/html before any JSON) when `f` is absent.
//! The language is `lang=vi|en`, else the browser's `Accept-Language` (Vietnamese first), else Vietnamese.

use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use minijinja::Environment;
use serde_json::{Value, json};

use super::{ApiError, Params};

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Vi,
    En,
}

/// Whether the request asks for HTML (see the module's description).
pub(crate) fn wanted(params: &Params, headers: &HeaderMap) -> bool {
    match params.get("f") {
        Some(f) => f == "html",
        None => {
            let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
            match (accept.find("text/html"), accept.find("json")) {
                (Some(h), Some(j)) => h < j,
                (Some(_), None) => true,
                _ => false,
            }
        }
    }
}

/// The page's language (see the module's description).
pub(crate) fn lang(params: &Params, headers: &HeaderMap) -> Result<Lang, ApiError> {
    match params.get("lang") {
        Some("vi") => Ok(Lang::Vi),
        Some("en") => Ok(Lang::En),
        Some(other) => Err(ApiError::parameter("lang", format!("lang={other}: use vi or en"))),
        None => {
            let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("vi");
            Ok(if accept.trim_start().starts_with("en") { Lang::En } else { Lang::Vi })
        }
    }
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, text) in [
            ("base.html", include_str!("../../templates/base.html")),
            ("landing.html", include_str!("../../templates/landing.html")),
            ("collections.html", include_str!("../../templates/collections.html")),
            ("collection.html", include_str!("../../templates/collection.html")),
            ("items.html", include_str!("../../templates/items.html")),
            ("item.html", include_str!("../../templates/item.html")),
        ] {
            env.add_template(name, text).expect("the built-in templates parse (checked by the tests)");
        }
        env
    })
}

/// The words of the pages.
fn words(lang: Lang) -> Value {
    match lang {
        Lang::Vi => json!({
            "collections": "Lớp dữ liệu", "collection": "Lớp", "description": "Mô tả", "map": "Bản đồ",
            "features": "Đối tượng", "queryables": "Trường lọc được", "extent": "Phạm vi", "links": "Liên kết",
            "shown": "{returned} trong {matched} đối tượng", "prev": "Trang trước", "next": "Trang sau",
            "json_hint": "Dữ liệu này dưới dạng",
        }),
        Lang::En => json!({
            "collections": "Collections", "collection": "Collection", "description": "Description", "map": "Map",
            "features": "Features", "queryables": "Queryables", "extent": "Extent", "links": "Links",
            "shown": "{returned} of {matched} features", "prev": "Previous", "next": "Next",
            "json_hint": "This data as",
        }),
    }
}

/// The query string without `f` and `lang`, plus `extra`.
fn query_with(params: &Params, extra: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params.iter().filter(|(k, _)| *k != "f" && *k != "lang") {
        q.append_pair(k, v);
    }
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    q.finish()
}

/// What a page shows: `template` over `doc` (the route's JSON answer), titled `title`; `map` is a
/// FeatureCollection to draw, if any; `extra` adds values to the template's context.
pub(crate) struct Page<'a> {
    pub template: &'a str,
    pub title: &'a str,
    pub doc: &'a Value,
    pub map: Option<Value>,
    pub extra: Value,
}

/// Renders `page` in `lang`, its links under `base` and its language and JSON switches keeping `params`.
pub(crate) fn page(page: Page<'_>, base: &str, params: &Params, lang: Lang) -> Result<Response, ApiError> {
    let Page { template, title, doc, map, extra } = page;
    let other = match lang {
        Lang::Vi => "en",
        Lang::En => "vi",
    };
    let mut ctx = json!({
        "title": title,
        "doc": doc,
        "base": base,
        "lang": if lang == Lang::Vi { "vi" } else { "en" },
        "t": words(lang),
        "other_lang_query": query_with(params, &[("f", "html"), ("lang", other)]),
        "json_query": query_with(params, &[("f", "json")]),
    });
    if let Some(map) = map {
        ctx["map_features"] = map;
    }
    if let (Some(ctx), Value::Object(extra)) = (ctx.as_object_mut(), extra) {
        ctx.extend(extra);
    }
    let html = environment()
        .get_template(template)
        .and_then(|t| t.render(minijinja::value::Serde(&ctx)))
        .map_err(|e| ApiError::Internal(format!("HTML template {template}: {e:#}")))?;
    let mut response = html.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept, Accept-Language"));
    Ok(response)
}
