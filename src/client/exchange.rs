//! One timed request/response exchange. Times are taken with `Instant::now()` as each read
//! returns, before any parsing; every failure becomes a classified [`RequestError`] in the
//! returned [`Exchange`], never a panic or an early return without timings.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde_json::value::RawValue;
use tokio::time::timeout_at;

use super::openai::{self, Usage};
use super::sse::{SseDecoder, SseEvent};
use super::{ErrorKind, RequestError};
use crate::scenario::Secret;

/// Timings and outcome of one request.
#[derive(Debug)]
pub struct Exchange {
    pub sent: Instant,
    /// Arrival of the first chunk carrying generated text.
    pub first_token: Option<Instant>,
    /// Arrival of the last byte (or the failure).
    pub end: Instant,
    /// Arrival of each chunk carrying text, in microseconds after `sent`.
    pub content_offsets_us: Vec<u32>,
    pub usage: Option<Usage>,
    /// Server-side timings, verbatim (llama.cpp).
    pub server_timings: Option<Box<RawValue>>,
    pub error: Option<RequestError>,
}

/// An HTTP/1.1 keep-alive client; the API key, if any, goes into a sensitive
/// Authorization header that debug output redacts.
pub fn build_http_client(api_key: Option<&Secret>) -> reqwest::Result<reqwest::Client> {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(key) = api_key {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer invalid-key"));
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .tcp_nodelay(true)
        // Below the 5 s keep-alive of llama.cpp (httplib) and uvicorn (vLLM, SGLang), so a
        // pooled connection is never reused just as the server closes it.
        .pool_idle_timeout(Duration::from_secs(3))
        .connect_timeout(Duration::from_secs(10))
        .build()
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
    let mut ex = Exchange {
        sent,
        first_token: None,
        end: sent,
        content_offsets_us: Vec::new(),
        usage: None,
        server_timings: None,
        error: None,
    };
    let response = match outcome {
        Err(_) => return ex.fail(ErrorKind::Timeout, "no response headers before the timeout"),
        Ok(Err(e)) => {
            let kind = if e.is_connect() {
                ErrorKind::Connect
            } else {
                ErrorKind::Transport
            };
            return ex.fail(kind, error_chain(&e));
        }
        Ok(Ok(r)) => r,
    };
    let status = response.status();
    if !status.is_success() {
        let body = match timeout_at(deadline, response.bytes()).await {
            Ok(Ok(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            _ => String::new(),
        };
        ex.end = Instant::now();
        ex.error = Some(RequestError::from_status(status.as_u16(), &body));
        return ex;
    }
    if stream {
        read_stream(&mut ex, response, deadline).await;
    } else {
        read_whole(&mut ex, response, deadline).await;
    }
    ex
}

impl Exchange {
    fn fail(mut self, kind: ErrorKind, message: impl AsRef<str>) -> Self {
        self.end = Instant::now();
        self.error = Some(RequestError::new(kind, message));
        self
    }

    fn set_error(&mut self, error: RequestError) {
        self.error.get_or_insert(error);
    }

    /// Folds one parsed chunk that arrived at `now`.
    fn absorb(&mut self, chunk: openai::ChunkInfo, now: Instant) {
        if let Some(message) = chunk.error {
            self.set_error(RequestError::from_stream_error(&message));
            return;
        }
        if chunk.has_content {
            self.first_token.get_or_insert(now);
            let offset = now.duration_since(self.sent).as_micros();
            self.content_offsets_us
                .push(offset.min(u32::MAX as u128) as u32);
        }
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        if chunk.timings.is_some() {
            self.server_timings = chunk.timings;
        }
    }

    fn on_event(&mut self, event: SseEvent<'_>, now: Instant) -> bool {
        if event.data == b"[DONE]" {
            return true;
        }
        if event.event == b"error" {
            self.set_error(RequestError::from_stream_error(&String::from_utf8_lossy(
                event.data,
            )));
            return false;
        }
        match openai::parse(event.data) {
            Ok(chunk) => self.absorb(chunk, now),
            Err(e) => {
                let text = String::from_utf8_lossy(event.data);
                self.set_error(RequestError::new(
                    ErrorKind::MalformedChunk,
                    format!("{e}: {text}"),
                ));
            }
        }
        false
    }

    fn finish(&mut self, completed: bool) {
        if self.error.is_some() {
            return;
        }
        if !completed {
            self.error = Some(RequestError::new(
                ErrorKind::StreamTruncated,
                "the stream ended without [DONE]",
            ));
        } else if self.first_token.is_none() {
            self.error = Some(RequestError::new(
                ErrorKind::EmptyResponse,
                "no generated text",
            ));
        }
    }
}

async fn read_stream(
    ex: &mut Exchange,
    response: reqwest::Response,
    deadline: tokio::time::Instant,
) {
    let mut body = response.bytes_stream();
    let mut decoder = SseDecoder::new();
    let mut done = false;
    while !done && ex.error.is_none() {
        let read = match timeout_at(deadline, body.next()).await {
            Err(_) => {
                ex.end = Instant::now();
                ex.set_error(RequestError::new(
                    ErrorKind::Timeout,
                    "stream stalled past the timeout",
                ));
                return;
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                ex.end = Instant::now();
                ex.set_error(RequestError::new(
                    ErrorKind::StreamTruncated,
                    error_chain(&e),
                ));
                return;
            }
            Ok(Some(Ok(bytes))) => bytes,
        };
        let now = Instant::now();
        ex.end = now;
        decoder.feed(&read, |event| done |= ex.on_event(event, now));
    }
    ex.finish(done);
}

async fn read_whole(
    ex: &mut Exchange,
    response: reqwest::Response,
    deadline: tokio::time::Instant,
) {
    let bytes = match timeout_at(deadline, response.bytes()).await {
        Err(_) => {
            ex.end = Instant::now();
            ex.set_error(RequestError::new(
                ErrorKind::Timeout,
                "body incomplete at the timeout",
            ));
            return;
        }
        Ok(Err(e)) => {
            ex.end = Instant::now();
            ex.set_error(RequestError::new(
                ErrorKind::StreamTruncated,
                error_chain(&e),
            ));
            return;
        }
        Ok(Ok(bytes)) => bytes,
    };
    let now = Instant::now();
    ex.end = now;
    match openai::parse(&bytes) {
        Ok(chunk) => ex.absorb(chunk, now),
        Err(e) => ex.set_error(RequestError::new(ErrorKind::MalformedChunk, e.to_string())),
    }
    ex.finish(true);
}

/// Whether the connection closed before any response byte (a stale keep-alive connection).
fn closed_before_response(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_incomplete_message) {
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
