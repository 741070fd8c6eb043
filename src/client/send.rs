//! Sending one measured request and timing its response into an [`Exchange`]. Times are
//! taken as each read's bytes arrived (the kernel's receive timestamp, see
//! [`super::transport`]), before any parsing; every failure becomes a classified
//! [`RequestError`] in the returned exchange, never a panic or an early return without
//! timings.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Response, Uri};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::time::timeout_at;

use super::chunk::StreamState;
use super::clients::StreamClient;
use super::exchange::Exchange;
use super::sse::SseEvent;
use super::timer::StreamTimer;
use super::transport::ArrivalClock;
use super::{Adapter, ErrorKind, RequestError};

/// Sends `body` to `url` and times the response until `[DONE]`, the end of the body, a
/// failure or `timeout` after sending. A `request_id` goes out as `X-Request-Id` (vLLM and
/// others adopt it as their own id, so server logs can be joined with the harness's).
///
/// A request that meets a pooled connection the server has just closed (llama.cpp closes
/// after `Keep-Alive: max=100` requests) is sent once more on a new connection: the server
/// never read it, and the time of the second send is the one measured.
pub async fn send(http: &StreamClient, uri: &Uri, body: Bytes, how: &Sending<'_>) -> Exchange {
    let Sending {
        stream,
        timeout,
        request_id,
        ..
    } = *how;
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
        read_stream(sent, response, deadline, how).await
    } else {
        read_whole(sent, response, deadline, how).await
    }
}

/// How a request is sent and read.
#[derive(Clone, Copy)]
pub struct Sending<'a> {
    /// Read the response as a stream of events.
    pub stream: bool,
    /// From send to the last byte.
    pub timeout: Duration,
    /// Sent as `X-Request-Id`.
    pub request_id: Option<&'a str>,
    /// Keep the generated text in the exchange.
    pub keep_reply: bool,
    /// The server's dialect, which reads the response.
    pub adapter: &'a dyn Adapter,
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
    how: &Sending<'_>,
) -> Exchange {
    let clock = response.extensions().get::<Arc<ArrivalClock>>().cloned();
    let mut body = response.into_body();
    let mut timer = StreamTimer::new(sent, how.keep_reply, how.adapter);
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
    how: &Sending<'_>,
) -> Exchange {
    let clock = response.extensions().get::<Arc<ArrivalClock>>().cloned();
    let mut ex = Exchange::new(sent);
    ex.reply = how.keep_reply.then(String::new);
    match timeout_at(deadline, response.into_body().collect()).await {
        Ok(Ok(collected)) => {
            let now = arrival(clock.as_deref());
            let bytes = collected.to_bytes();
            ex.end = now;
            let whole = SseEvent {
                event: b"",
                data: &bytes,
            };
            let read = how
                .adapter
                .read(whole, &mut StreamState::default(), ex.reply.as_mut());
            match read {
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
