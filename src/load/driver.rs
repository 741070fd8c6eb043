//! What every load shape needs to start one request: the HTTP client, the adapter, the
//! prompt factory, the run-wide prompt counter and the cancellation token.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::RequestRecord;
use crate::client::{self, Adapter, GenerationParams, StreamClient};
use crate::workload::PromptFactory;

/// Shared, borrowed state of the request senders.
pub struct Driver<'a> {
    pub http: &'a StreamClient,
    pub uri: &'a http::Uri,
    pub adapter: &'a dyn Adapter,
    pub params: &'a GenerationParams,
    pub factory: &'a PromptFactory,
    pub timeout: Duration,
    pub cancel: &'a CancellationToken,
    /// Index of the next prompt; unique over the whole run.
    pub next_index: &'a AtomicU64,
    /// Prefix of the run's request ids (`{run_id}-{index}`).
    pub run_id: &'a str,
    /// The server's model list, fetched to open connections before a window.
    pub models_uri: &'a http::Uri,
}

/// A request ready to send: its prompt index and body.
pub struct Prepared {
    pub index: u64,
    pub body: bytes::Bytes,
}

impl Driver<'_> {
    /// Builds the next unique prompt of `content_tokens` tokens and its request body.
    pub fn prepare(&self, content_tokens: u32) -> Prepared {
        let index = self.next_index.fetch_add(1, Ordering::Relaxed);
        let prompt = self.factory.build(index, content_tokens);
        Prepared {
            index,
            body: self.adapter.body(self.params, &prompt).into(),
        }
    }

    /// Opens up to `n` keep-alive connections (as many concurrent fetches of the model list),
    /// so that a measured window starts on warm connections as a long-running client's
    /// would: TTFT then measures the server, not TCP and TLS handshakes, and a thousand
    /// connects do not crowd the first reads. Failures are left to the requests that follow.
    pub async fn preconnect(&self, n: u32) {
        futures_util::future::join_all((0..n).map(|_| self.http.touch(self.models_uri))).await;
    }

    /// Sends the next prompt now (a closed loop's sender) and passes its record to `out`;
    /// false when the run was cancelled before it finished.
    pub async fn send_now(
        &self,
        content_tokens: u32,
        out: &tokio::sync::mpsc::UnboundedSender<RequestRecord>,
    ) -> bool {
        let scheduled = Instant::now();
        let request = self.prepare(content_tokens);
        match self.execute(request, scheduled).await {
            Some(record) => {
                let _ = out.send(record);
                true
            }
            None => false,
        }
    }

    /// Sends a prepared request; `None` when the run was cancelled before it finished.
    pub async fn execute(&self, request: Prepared, scheduled: Instant) -> Option<RequestRecord> {
        let request_id = format!("{}-{}", self.run_id, request.index);
        let send = client::send(
            self.http,
            self.uri,
            request.body,
            self.params.stream,
            self.timeout,
            Some(&request_id),
        );
        tokio::select! {
            exchange = send => Some(RequestRecord { index: request.index, request_id, scheduled, exchange }),
            _ = self.cancel.cancelled() => None,
        }
    }
}
