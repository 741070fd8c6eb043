//! One timed request/response exchange. Times are taken as each read's bytes arrived (the
//! kernel's receive timestamp, see [`super::transport`]), before any parsing; every
//! failure becomes a classified [`RequestError`] in the returned [`Exchange`], never a
//! panic or an early return without timings.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::{Method, Request, Response, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::time::timeout_at;

use super::openai;
use super::timer::{Exchange, StreamTimer};
use super::transport::{ArrivalClock, TimedConnector};
use super::{ErrorKind, RequestError};
use crate::secret::Secret;

/// Why no HTTP client could be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the API key holds characters an HTTP header cannot carry")]
    InvalidKey,
    #[error("cannot build the HTTP client: {0}")]
    Build(#[from] reqwest::Error),
    #[error("{url} is not a URI the HTTP client can use: {reason}")]
    Uri { url: String, reason: String },
}

/// `url` as the URI of requests, checked once rather than per request.
pub fn request_uri(url: &reqwest::Url) -> Result<Uri, ClientError> {
    Uri::try_from(url.as_str()).map_err(|e| ClientError::Uri {
        url: crate::secret::redacted(url),
        reason: e.to_string(),
    })
}

/// Below the 5 s keep-alive of llama.cpp (httplib) and uvicorn (vLLM, SGLang), so a pooled
/// connection is never reused just as the server closes it.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(3);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The headers every request carries: JSON, and the API key, if any, in a sensitive
/// Authorization header that debug output redacts.
fn default_headers(api_key: Option<&Secret>) -> Result<HeaderMap, ClientError> {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(key) = api_key {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
            .map_err(|_| ClientError::InvalidKey)?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    Ok(headers)
}

/// The client of side calls (model list, tokenizer, metrics): an HTTP/1.1 keep-alive client.
pub fn build_http_client(api_key: Option<&Secret>) -> Result<reqwest::Client, ClientError> {
    Ok(reqwest::Client::builder()
        .default_headers(default_headers(api_key)?)
        .tcp_nodelay(true)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()?)
}

/// The client of measured requests: pooled HTTP/1.1 keep-alive connections (plain or TLS)
/// whose responses are timed at their bytes' arrival.
#[derive(Clone)]
pub struct StreamClient {
    client: Client<HttpsConnector<TimedConnector>, Full<Bytes>>,
    headers: HeaderMap,
}

impl StreamClient {
    pub fn new(api_key: Option<&Secret>) -> Result<Self, ClientError> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(TimedConnector::new(CONNECT_TIMEOUT));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(Self {
            client,
            headers: default_headers(api_key)?,
        })
    }

    async fn request(
        &self,
        method: Method,
        uri: Uri,
        body: Bytes,
        request_id: Option<&str>,
    ) -> Result<Response<Incoming>, hyper_util::client::legacy::Error> {
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = self.headers.clone();
        if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(id).ok()) {
            request.headers_mut().insert("x-request-id", id);
        }
        self.client.request(request).await
    }

    /// Fetches `uri` and reads the answer whole, leaving its connection in the pool.
    pub async fn touch(&self, uri: &Uri) {
        if let Ok(response) = self
            .request(Method::GET, uri.clone(), Bytes::new(), None)
            .await
        {
            let _ = response.into_body().collect().await;
        }
    }
}

/// Sends `body` to `url` and times the response until `[DONE]`, the end of the body, a
/// failure or `timeout` after sending. A `request_id` goes out as `X-Request-Id` (vLLM and
/// others adopt it as their own id, so server logs can be joined with the harness's).
///
/// A request that meets a pooled connection the server has just closed (llama.cpp closes
/// after `Keep-Alive: max=100` requests) is sent once more on a new connection: the server
/// never read it, and the time of the second send is the one measured.
pub async fn send(
    http: &StreamClient,
    uri: &Uri,
    body: Bytes,
    stream: bool,
    timeout: Duration,
    request_id: Option<&str>,
) -> Exchange {
    let mut retried = false;
    let (sent, deadline, outcome) = loop {
        let request = http.request(Method::POST, uri.clone(), body.clone(), request_id);
        let sent = Instant::now();
        let deadline = tokio::time::Instant::from_std(sent + timeout);
        match timeout_at(deadline, request).await {
            Ok(Err(e)) if !retried && closed_before_response(&e) => retried = true,
            outcome => break (sent, deadline, outcome),
        }
    };
    let response = match outcome {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            let kind = if e.is_connect() {
                ErrorKind::Connect
            } else {
                ErrorKind::Transport
            };
            return Exchange::failed(
                sent,
                Instant::now(),
                RequestError::new(kind, error_chain(&e)),
            );
        }
        Err(_) => {
            let error =
                RequestError::new(ErrorKind::Timeout, "no response headers before the timeout");
            return Exchange::failed(sent, Instant::now(), error);
        }
    };
    let status = response.status();
    if !status.is_success() {
        let body = match timeout_at(deadline, response.into_body().collect()).await {
            Ok(Ok(collected)) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
            _ => String::new(),
        };
        let error = RequestError::from_status(status.as_u16(), &body);
        return Exchange::failed(sent, Instant::now(), error);
    }
    if stream {
        read_stream(sent, response, deadline).await
    } else {
        read_whole(sent, response, deadline).await
    }
}

/// When the bytes just read arrived: the connection's clock, else now.
fn arrival(clock: Option<&ArrivalClock>) -> Instant {
    clock
        .and_then(ArrivalClock::latest)
        .unwrap_or_else(Instant::now)
}

async fn read_stream(
    sent: Instant,
    response: Response<Incoming>,
    deadline: tokio::time::Instant,
) -> Exchange {
    let clock = response.extensions().get::<Arc<ArrivalClock>>().cloned();
    let mut body = response.into_body();
    let mut timer = StreamTimer::new(sent);
    // One timer for the whole stream, not one per read: registering and cancelling a
    // timer for every chunk costs the read loop more than the chunk's parsing.
    let expiry = tokio::time::sleep_until(deadline);
    tokio::pin!(expiry);
    while !timer.is_finished() {
        tokio::select! {
            biased;
            read = body.frame() => match read {
                Some(Ok(frame)) => {
                    if let Some(bytes) = frame.data_ref() {
                        timer.on_read(bytes, arrival(clock.as_deref()));
                    }
                }
                None => break,
                Some(Err(e)) => timer.fail(
                    Instant::now(),
                    RequestError::new(ErrorKind::StreamTruncated, error_chain(&e)),
                ),
            },
            () = &mut expiry => timer.fail(
                Instant::now(),
                RequestError::new(ErrorKind::Timeout, "stream stalled past the timeout"),
            ),
        }
    }
    timer.finish()
}

async fn read_whole(
    sent: Instant,
    response: Response<Incoming>,
    deadline: tokio::time::Instant,
) -> Exchange {
    let clock = response.extensions().get::<Arc<ArrivalClock>>().cloned();
    let mut ex = Exchange::new(sent);
    match timeout_at(deadline, response.into_body().collect()).await {
        Ok(Ok(collected)) => {
            let now = arrival(clock.as_deref());
            let bytes = collected.to_bytes();
            ex.end = now;
            match openai::parse(&bytes) {
                Ok(chunk) => ex.absorb(chunk, now),
                Err(e) => ex.fail(
                    now,
                    RequestError::new(ErrorKind::MalformedChunk, e.to_string()),
                ),
            }
        }
        Ok(Err(e)) => ex.fail(
            Instant::now(),
            RequestError::new(ErrorKind::StreamTruncated, error_chain(&e)),
        ),
        Err(_) => ex.fail(
            Instant::now(),
            RequestError::new(ErrorKind::Timeout, "body incomplete at the timeout"),
        ),
    }
    ex.conclude(true);
    ex
}

/// Whether the connection closed before any response byte (a stale keep-alive connection).
fn closed_before_response(e: &hyper_util::client::legacy::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_incomplete_message)
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// An error and its sources on one line (hyper hides the interesting part in sources).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
