//! What stands around every request: the host it was sent to (a loopback dashboard
//! answers only to loopback names, so that a web page cannot reach it through a name
//! rebound to 127.0.0.1), the API key (when `API_KEY` is set, mutating requests need it in
//! `X-API-Key`, or the session cookie the login page sets for it, compared in constant
//! time; reads too with `--auth-reads`), a refusal of form posts and WebSockets from other
//! sites, the security headers (a strict Content-Security-Policy: nothing loads from
//! anywhere but the dashboard itself, no inline script), and one log line per request with
//! its id.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use subtle::ConstantTimeEq;
use tracing::Instrument;

use super::api::Problem;
use super::App;

/// The cookie the login page sets: a session token drawn when the dashboard started,
/// never the key itself.
pub const SESSION_COOKIE: &str = "llm_loadtest_session";

/// The policy of the dashboard's own pages: its scripts, styles and WebSocket only, and
/// its report pages in frames.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

/// The policy of a report page (its own inline style and data-URI images, no script),
/// shown in the dashboard's frames.
pub const REPORT_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
    img-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

/// Whether two byte strings are equal, in time that does not depend on where they differ.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    bool::from(given.ct_eq(expected))
}

/// Whether the request carries the dashboard's key, or the session cookie that stands for
/// it (always, when there is no key).
pub fn authorized(app: &App, headers: &HeaderMap) -> bool {
    let Some(key) = &app.config.api_key else {
        return true;
    };
    match headers.get("x-api-key") {
        Some(given) => same_secret(given.as_bytes(), key.expose().as_bytes()),
        None => cookie(headers, SESSION_COOKIE)
            .is_some_and(|c| same_secret(c.as_bytes(), app.session.expose().as_bytes())),
    }
}

/// The session cookie, set when the right key was given at `/login`.
pub fn session_cookie(app: &App) -> String {
    let token = app.session.expose();
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict")
}

/// The cookie that ends the session.
pub fn logged_out_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
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

/// Every route: a request sent to a host name the dashboard does not answer to is refused.
pub async fn known_host(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let known = match &app.config.allowed_hosts {
        Some(allowed) => host.is_some_and(|h| allowed.iter().any(|a| a.eq_ignore_ascii_case(h))),
        None => true,
    };
    if !known {
        let refused = "this dashboard does not answer to that host name";
        return Problem::new(StatusCode::FORBIDDEN, refused).into_response();
    }
    next.run(request).await
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
pub fn same_site(headers: &HeaderMap) -> bool {
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
pub async fn request_log(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
    request: Request,
    next: Next,
) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    // Inside the command's span, whichever thread serves it.
    let span = tracing::info_span!(parent: &app.span, "request", request_id = %id);
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
        let map = headers(&[("cookie", "a=1; llm_loadtest_session=t0k; b=2")]);
        assert_eq!(cookie(&map, SESSION_COOKIE), Some("t0k"));
        assert_eq!(cookie(&headers(&[]), SESSION_COOKIE), None);
    }
}
