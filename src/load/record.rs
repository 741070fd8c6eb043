//! The record of one finished request, and the optional JSONL log of them (one line per
//! request, times in milliseconds relative to the request's own send).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use serde_json::value::RawValue;
use tempfile::NamedTempFile;

use crate::atomic::{self, WriteError};
use crate::client::Usage;
use crate::client::{Exchange, RequestError};

/// What a request was, beyond its prompt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestMeta {
    /// Index into the plan's classes (0 without classes).
    pub class: usize,
    /// A conversation's turn, from 0.
    pub turn: u32,
    /// The prompt tokens the server should count, when known exactly.
    pub planned_input: Option<u32>,
}

/// A finished request as the load generator saw it.
#[derive(Debug)]
pub struct RequestRecord {
    /// Prompt index, unique within the run.
    pub index: u64,
    pub meta: RequestMeta,
    /// Sent as `X-Request-Id`.
    pub request_id: String,
    /// When the load shape wanted it sent.
    pub scheduled: Instant,
    pub exchange: Exchange,
}

#[derive(Serialize)]
struct Line<'a> {
    point: &'a str,
    index: u64,
    #[serde(skip_serializing_if = "is_zero")]
    class: usize,
    #[serde(skip_serializing_if = "is_zero")]
    turn: u32,
    request_id: &'a str,
    /// The send, in CLOCK_MONOTONIC microseconds (to join with a server's log).
    sent_clock_us: u64,
    /// Milliseconds since the point's measured window began.
    scheduled_ms: f64,
    send_lag_ms: f64,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttft_ms: Option<f64>,
    e2e_ms: f64,
    /// Arrival of each text chunk, milliseconds after send.
    chunk_ms: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Usage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_timings: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a RequestError>,
}

fn is_zero<T: Default + PartialEq>(n: &T) -> bool {
    *n == T::default()
}

fn ms(from: Instant, to: Instant) -> f64 {
    to.saturating_duration_since(from).as_micros() as f64 / 1000.0
}

/// Appends request records to a JSONL file, if one was asked for. The lines go to a
/// temporary file beside the target until the run has something to keep
/// ([`RequestLog::keep`]), so that a run that fails before its first point leaves an
/// earlier log at that path as it was; a log never kept is deleted.
pub struct RequestLog(Option<Sink>);

enum Sink {
    Pending {
        file: BufWriter<NamedTempFile>,
        path: PathBuf,
    },
    Kept(BufWriter<File>),
}

impl RequestLog {
    pub fn disabled() -> Self {
        Self(None)
    }

    /// A log for `path` (refused when `path` is not a regular file), written beside it
    /// until kept.
    pub fn create(path: &Path) -> Result<Self, WriteError> {
        let file = atomic::temporary_for(path)?;
        Ok(Self(Some(Sink::Pending {
            file: BufWriter::new(file),
            path: path.to_owned(),
        })))
    }

    /// Moves the log to its path, once; the lines that follow go there too.
    pub fn keep(&mut self) -> Result<(), WriteError> {
        let (file, path) = match self.0.take() {
            Some(Sink::Pending { file, path }) => (file, path),
            kept_or_none => {
                self.0 = kept_or_none;
                return Ok(());
            }
        };
        let file = file
            .into_inner()
            .map_err(|e| atomic::io_error(&path, e.into_error()))?;
        let kept = file
            .persist(&path)
            .map_err(|e| atomic::io_error(&path, e.error))?;
        self.0 = Some(Sink::Kept(BufWriter::new(kept)));
        Ok(())
    }

    fn out(&mut self) -> Option<&mut dyn Write> {
        match &mut self.0 {
            Some(Sink::Pending { file, .. }) => Some(file),
            Some(Sink::Kept(file)) => Some(file),
            None => None,
        }
    }

    /// Writes one record of point `point` whose measured window began at `window_start`.
    pub fn write(
        &mut self,
        point: &str,
        window_start: Instant,
        r: &RequestRecord,
    ) -> std::io::Result<()> {
        let Some(out) = self.out() else {
            return Ok(());
        };
        let ex = &r.exchange;
        let line = Line {
            point,
            index: r.index,
            class: r.meta.class,
            turn: r.meta.turn,
            request_id: &r.request_id,
            sent_clock_us: crate::clock::monotonic_us(ex.sent),
            scheduled_ms: ms(window_start, r.scheduled),
            send_lag_ms: ms(r.scheduled, ex.sent),
            ok: ex.error.is_none(),
            ttft_ms: ex.first_token.map(|t| ms(ex.sent, t)),
            e2e_ms: ms(ex.sent, ex.end),
            chunk_ms: ex
                .content_offsets_us
                .iter()
                .map(|&us| f64::from(us) / 1000.0)
                .collect(),
            usage: ex.usage,
            server_timings: ex.server_timings.as_deref(),
            error: ex.error.as_ref(),
        };
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        match self.out() {
            Some(out) => out.flush(),
            None => Ok(()),
        }
    }
}
