//! What every load shape needs to start one request: the HTTP client, the adapter, the
//! prompt factory, the run-wide prompt counter and the cancellation token.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::RequestRecord;
use crate::client::{self, Adapter, GenerationParams};
use crate::workload::PromptFactory;

/// Shared, borrowed state of the request senders.
pub struct Driver<'a> {
    pub http: &'a reqwest::Client,
    pub url: &'a reqwest::Url,
    pub adapter: &'a dyn Adapter,
    pub params: &'a GenerationParams,
    pub factory: &'a PromptFactory,
    pub timeout: Duration,
    pub cancel: &'a CancellationToken,
    /// Index of the next prompt; unique over the whole run.
    pub next_index: &'a AtomicU64,
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

    /// Sends a prepared request; `None` when the run was cancelled before it finished.
    pub async fn execute(&self, request: Prepared, scheduled: Instant) -> Option<RequestRecord> {
        let send = client::send(
            self.http,
            self.url,
            request.body,
            self.params.stream,
            self.timeout,
        );
        tokio::select! {
            exchange = send => Some(RequestRecord { index: request.index, scheduled, exchange }),
            _ = self.cancel.cancelled() => None,
        }
    }
}
