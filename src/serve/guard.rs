//! What stands around every request: the API key (when `API_KEY` is set, mutating
//! requests need it in `X-API-Key`, or in the cookie the login page sets, compared in
//! constant time; reads too with `--auth-reads`), a refusal of form posts from other sites,
//! the security headers (a strict Content-Security-Policy: nothing loads from anywhere
//! but the dashboard itself, no inline script), and one log line per request with its id.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use subtle::ConstantTimeEq;
use tracing::Instrument;

use super::api::Problem;
use super::App;

/// The cookie the login page sets.
pub const KEY_COOKIE: &str = "llm_loadtest_key";

/// The policy of the dashboard's own pages: its scripts, styles and WebSocket only, and
/// its report pages in frames.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

/// The policy of a report page (its own inline style and data-URI images, no script),
/// shown in the dashboard's frames.
pub const REPORT_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
    img-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

/// Whether the request carries the dashboard's key (always, when it has none).
pub fn authorized(app: &App, headers: &HeaderMap) -> bool {
    let Some(key) = &app.config.api_key else {
        return true;
    };
    let expected = key.expose().as_bytes();
    let given = match headers.get("x-api-key") {
        Some(header) => Some(std::borrow::Cow::Borrowed(header.as_bytes())),
        None => cookie(headers, KEY_COOKIE).map(|c| percent_decode_str(c).into()),
    };
    given.is_some_and(|g| bool::from(g.as_ref().ct_eq(expected)))
}

/// The login cookie's value for `key`.
pub fn key_cookie(key: &str) -> String {
    let encoded = utf8_percent_encode(key, NON_ALPHANUMERIC);
    format!("{KEY_COOKIE}={encoded}; Path=/; HttpOnly; SameSite=Strict")
}

/// The value of the cookie `name`.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(n, value)| (n == name).then_some(value))
}

/// Mutating routes: the key, and for forms, a post from the dashboard's own pages.
pub async fn require_key(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
    request: Request,
    next: Next,
) -> Response {
    if !same_site(request.headers()) {
        return Problem::new(StatusCode::FORBIDDEN, "cross-site requests are refused")
            .into_response();
    }
    if !authorized(&app, request.headers()) {
        return refuse(&request);
    }
    next.run(request).await
}

/// Read routes: the key only with `--auth-reads`.
pub async fn require_key_for_reads(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
    request: Request,
    next: Next,
) -> Response {
    if app.config.auth_reads && !authorized(&app, request.headers()) {
        return refuse(&request);
    }
    next.run(request).await
}

/// 401 for the API; the login page for a person.
fn refuse(request: &Request) -> Response {
    let path = request.uri().path();
    if path.starts_with("/api/") || request.method() != Method::GET {
        return Problem::new(StatusCode::UNAUTHORIZED, "missing or wrong X-API-Key")
            .into_response();
    }
    let next: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
    Redirect::to(&format!("/login?next={next}")).into_response()
}

/// Whether a browser says the request comes from another site (`Sec-Fetch-Site`, else
/// an `Origin` that is not this host); tools that send neither are not browsers.
fn same_site(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    match (text("sec-fetch-site"), text("origin"), text("host")) {
        (Some(site), _, _) => matches!(site, "same-origin" | "none"),
        (None, Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host),
        (None, Some(_), None) => false,
        (None, None, _) => true,
    }
}

/// The security headers of every response; a report page keeps its own policy.
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_POLICY),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Gives the request an id (answered in `X-Request-Id`), runs it inside a span that
/// carries it, and logs its method, path, status and duration.
pub async fn request_log(request: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    let span = tracing::info_span!("request", request_id = %id);
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        tracing::info!(%method, %path, status = response.status().as_u16(), ms, "request");
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn cross_site_posts_are_told_apart() {
        assert!(same_site(&headers(&[])));
        assert!(same_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_site(&headers(&[("sec-fetch-site", "cross-site")])));
        let host = ("host", "127.0.0.1:8085");
        assert!(same_site(&headers(&[
            ("origin", "http://127.0.0.1:8085"),
            host
        ])));
        assert!(!same_site(&headers(&[
            ("origin", "http://evil.example"),
            host
        ])));
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let map = headers(&[("cookie", "a=1; llm_loadtest_key=k%20e; b=2")]);
        assert_eq!(cookie(&map, KEY_COOKIE), Some("k%20e"));
        assert!(key_cookie("k e;y").starts_with("llm_loadtest_key=k%20e%3By;"));
        assert_eq!(cookie(&headers(&[]), KEY_COOKIE), None);
    }
}
