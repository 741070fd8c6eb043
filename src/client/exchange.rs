//! One timed request/response exchange. Times are taken with `Instant::now()` as each read
//! returns, before any parsing; every failure becomes a classified [`RequestError`] in the
//! returned [`Exchange`], never a panic or an early return without timings.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use tokio::time::timeout_at;

use super::openai;
use super::timer::{Exchange, StreamTimer};
use super::{ErrorKind, RequestError};
use crate::secret::Secret;

/// Why no HTTP client could be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the API key holds characters an HTTP header cannot carry")]
    InvalidKey,
    #[error("cannot build the HTTP client: {0}")]
    Build(#[from] reqwest::Error),
}

/// An HTTP/1.1 keep-alive client; the API key, if any, goes into a sensitive
/// Authorization header that debug output redacts.
pub fn build_http_client(api_key: Option<&Secret>) -> Result<reqwest::Client, ClientError> {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(key) = api_key {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
            .map_err(|_| ClientError::InvalidKey)?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .tcp_nodelay(true)
        // Below the 5 s keep-alive of llama.cpp (httplib) and uvicorn (vLLM, SGLang), so a
        // pooled connection is never reused just as the server closes it.
        .pool_idle_timeout(Duration::from_secs(3))
        .connect_timeout(Duration::from_secs(10))
        .build()?)
}

/// Sends `body` to `url` and times the response until `[DONE]`, the end of the body, a
/// failure or `timeout` after sending.
///
/// A request that meets a pooled connection the server has just closed (llama.cpp closes
/// after `Keep-Alive: max=100` requests) is sent once more on a new connection: the server
/// never read it, and the time of the second send is the one measured.
pub async fn send(
    http: &reqwest::Client,
    url: &reqwest::Url,
    body: Bytes,
    stream: bool,
    timeout: Duration,
) -> Exchange {
    let mut retried = false;
    let (sent, deadline, outcome) = loop {
        let request = http.post(url.clone()).body(body.clone());
        let sent = Instant::now();
        let deadline = tokio::time::Instant::from_std(sent + timeout);
        match timeout_at(deadline, request.send()).await {
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
                RequestError::new(kind, error_chain(&e.without_url())),
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
        let body = match timeout_at(deadline, response.bytes()).await {
            Ok(Ok(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
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

async fn read_stream(
    sent: Instant,
    response: reqwest::Response,
    deadline: tokio::time::Instant,
) -> Exchange {
    let mut body = response.bytes_stream();
    let mut timer = StreamTimer::new(sent);
    while !timer.is_finished() {
        match timeout_at(deadline, body.next()).await {
            Ok(Some(Ok(bytes))) => timer.on_read(&bytes, Instant::now()),
            Ok(None) => break,
            Ok(Some(Err(e))) => timer.fail(
                Instant::now(),
                RequestError::new(ErrorKind::StreamTruncated, error_chain(&e.without_url())),
            ),
            Err(_) => timer.fail(
                Instant::now(),
                RequestError::new(ErrorKind::Timeout, "stream stalled past the timeout"),
            ),
        }
    }
    timer.finish()
}

async fn read_whole(
    sent: Instant,
    response: reqwest::Response,
    deadline: tokio::time::Instant,
) -> Exchange {
    let mut ex = Exchange::new(sent);
    match timeout_at(deadline, response.bytes()).await {
        Ok(Ok(bytes)) => {
            let now = Instant::now();
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
            RequestError::new(ErrorKind::StreamTruncated, error_chain(&e.without_url())),
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
fn closed_before_response(e: &reqwest::Error) -> bool {
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

/// An error and its sources on one line (reqwest hides the interesting part in sources).
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
