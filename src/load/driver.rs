//! What every load shape needs to start one request: the HTTP client, the adapter, the
//! request maker with the point's input lengths, the run-wide prompt counter, the shard and
//! the cancellation token. A job is one request, or a whole conversation: its turns one after
//! another, each sending the history with the server's replies, a think time apart.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::record::RequestMeta;
use super::RequestRecord;
use crate::client::{self, Adapter, GenerationParams, Prompt, Sending, StreamClient};
use crate::scenario::{LengthSpec, Message, Shard};
use crate::workload::{Made, RequestMaker};

/// Shared, borrowed state of the request senders.
#[derive(Clone, Copy)]
pub struct Driver<'a> {
    pub http: &'a StreamClient,
    pub uri: &'a http::Uri,
    pub adapter: &'a dyn Adapter,
    /// The generation settings of each class (one without classes).
    pub params: &'a [GenerationParams],
    pub maker: &'a RequestMaker,
    /// The point's prompt lengths (`None`: a file's or the classes').
    pub input: Option<&'a LengthSpec>,
    pub timeout: Duration,
    pub cancel: &'a CancellationToken,
    /// This process's count of prompts made; with the shard, unique over the whole run.
    pub next_index: &'a AtomicU64,
    /// This process's share of the load (the whole of it unless `run --shard`).
    pub shard: Shard,
    /// Prefix of the run's request ids (`{run_id}-{index}`).
    pub run_id: &'a str,
    /// The server's model list, fetched to open connections before a window.
    pub models_uri: &'a http::Uri,
}

/// A request ready to send: its prompt index, what it is, its body, and a conversation's
/// messages so far.
pub struct Prepared {
    pub index: u64,
    pub meta: RequestMeta,
    pub body: bytes::Bytes,
    history: Option<Vec<Message>>,
}

type Records = UnboundedSender<RequestRecord>;

impl Driver<'_> {
    /// Makes the next request (`seq`: its place in an open loop's schedule) and its body.
    pub fn prepare(&self, seq: Option<u64>) -> Prepared {
        let index = self
            .shard
            .prompt_index(self.next_index.fetch_add(1, Ordering::Relaxed));
        let made = self.maker.make(self.input, index, seq);
        self.prepared(index, 0, made)
    }

    fn prepared(&self, index: u64, turn: u32, made: Made) -> Prepared {
        let base = &self.params[made.class.min(self.params.len() - 1)];
        let params = GenerationParams {
            max_tokens: made.max_tokens,
            ..base.clone()
        };
        let body = self.adapter.body(&params, &made.prompt).into();
        let history = match made.prompt {
            Prompt::Messages(messages) if self.maker.conversation().is_some() => Some(messages),
            _ => None,
        };
        let meta = RequestMeta {
            class: made.class,
            turn,
            planned_input: made.planned_input,
        };
        Prepared {
            index,
            meta,
            body,
            history,
        }
    }

    /// Opens up to `n` keep-alive connections (as many concurrent fetches of the model list),
    /// so that a measured window starts on warm connections as a long-running client's
    /// would: TTFT then measures the server, not TCP and TLS handshakes, and a thousand
    /// connects do not crowd the first reads. Failures are left to the requests that follow.
    pub async fn preconnect(&self, n: u32) {
        futures_util::future::join_all((0..n).map(|_| self.http.touch(self.models_uri))).await;
    }

    /// Runs the next job now (a closed loop's sender); false when the run was cancelled.
    pub async fn send_now(&self, out: &Records) -> bool {
        let scheduled = Instant::now();
        let request = self.prepare(None);
        self.run_job(request, scheduled, out).await
    }

    /// Sends `first`, scheduled at `scheduled`, and a conversation's later turns; each
    /// record goes to `out`. False when the run was cancelled before the job finished.
    pub async fn run_job(&self, first: Prepared, scheduled: Instant, out: &Records) -> bool {
        let Some((turns, think)) = self.maker.conversation() else {
            let Some(record) = self.execute(first, scheduled, false).await else {
                return false;
            };
            let _ = out.send(record);
            return true;
        };
        let (mut request, mut scheduled) = (first, scheduled);
        for turn in 1..=turns {
            let index = request.index;
            let mut history = request.history.take().unwrap_or_default();
            let Some(mut record) = self.execute(request, scheduled, true).await else {
                return false;
            };
            let reply = record.exchange.reply.take().unwrap_or_default();
            let failed = record.exchange.error.is_some();
            let _ = out.send(record);
            if failed || turn == turns {
                return true;
            }
            tokio::select! {
                _ = tokio::time::sleep(think) => {}
                _ = self.cancel.cancelled() => return false,
            }
            history.push(Message {
                role: "assistant".to_owned(),
                content: reply,
            });
            let (message, max_tokens) = self.maker.next_turn(self.input, index, turn);
            history.push(message);
            let made = Made {
                class: 0,
                planned_input: None,
                max_tokens,
                prompt: Prompt::Messages(history),
            };
            (request, scheduled) = (self.prepared(index, turn, made), Instant::now());
        }
        true
    }

    /// Sends a prepared request (keeping the reply's text when `keep_reply`); `None` when
    /// the run was cancelled before it finished.
    async fn execute(
        &self,
        request: Prepared,
        scheduled: Instant,
        keep_reply: bool,
    ) -> Option<RequestRecord> {
        let request_id = match request.meta.turn {
            0 => format!("{}-{}", self.run_id, request.index),
            turn => format!("{}-{}-t{turn}", self.run_id, request.index),
        };
        let how = Sending {
            stream: self.params[0].stream,
            timeout: self.timeout,
            request_id: Some(&request_id),
            keep_reply,
            adapter: self.adapter,
        };
        let send = client::send(self.http, self.uri, request.body, &how);
        let exchange = tokio::select! {
            exchange = send => exchange,
            _ = self.cancel.cancelled() => return None,
        };
        Some(RequestRecord {
            index: request.index,
            meta: request.meta,
            request_id,
            scheduled,
            exchange,
        })
    }
}
