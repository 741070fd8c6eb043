//! Sampling beside the load during a point's measured window: GPU readings (NVML) and the
//! server's Prometheus metrics, each at its own interval, from the end of warmup (when
//! `measuring` is notified) until the point ends (`done`), with a last sample at the end.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::gpu::{GpuRecorder, Gpus};
use crate::result::{GpuStats, ServerMetrics};
use crate::server::{scrape, MetricsRecorder};

/// What to sample during each point.
pub struct WindowMonitor<'a> {
    pub http: &'a reqwest::Client,
    /// The server's `/metrics`, when scraping is on.
    pub metrics_url: Option<reqwest::Url>,
    pub metrics_interval: Duration,
    /// Open NVML, when there are GPUs and sampling is on.
    pub gpus: Option<Arc<Gpus>>,
    pub gpu_interval: Duration,
}

/// Runs `sample` now and then every `interval` until `done`, and once more at the end.
async fn every(interval: Duration, done: &CancellationToken, mut sample: impl AsyncSample) {
    loop {
        sample.take().await;
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = done.cancelled() => break,
        }
    }
    sample.take().await;
}

/// One kind of sample.
trait AsyncSample {
    async fn take(&mut self);
}

struct Metrics<'a> {
    http: &'a reqwest::Client,
    url: &'a reqwest::Url,
    recorder: MetricsRecorder,
}

impl AsyncSample for &mut Metrics<'_> {
    async fn take(&mut self) {
        let text = scrape(self.http, self.url).await;
        // Parsing a vLLM page (histograms included) takes milliseconds: off the thread
        // that times the chunks.
        let mut recorder = std::mem::take(&mut self.recorder);
        let parsed = tokio::task::spawn_blocking(move || {
            recorder.add(text);
            recorder
        });
        self.recorder = parsed.await.unwrap_or_default();
    }
}

struct Readings {
    gpus: Arc<Gpus>,
    recorder: GpuRecorder,
}

impl AsyncSample for &mut Readings {
    async fn take(&mut self) {
        // NVML calls block for up to milliseconds: off the thread that times the chunks.
        let gpus = self.gpus.clone();
        let readings = tokio::task::spawn_blocking(move || gpus.read()).await;
        self.recorder.add(readings.unwrap_or_default());
    }
}

impl WindowMonitor<'_> {
    /// Samples from `measuring` until `done`.
    pub async fn watch(
        &self,
        measuring: &Notify,
        done: &CancellationToken,
    ) -> (Option<ServerMetrics>, Vec<GpuStats>) {
        tokio::select! {
            _ = measuring.notified() => {}
            _ = done.cancelled() => return (None, Vec::new()),
        }
        let mut metrics = self.metrics_url.as_ref().map(|url| Metrics {
            http: self.http,
            url,
            recorder: MetricsRecorder::default(),
        });
        let mut readings = self.gpus.clone().map(|gpus| Readings {
            gpus,
            recorder: GpuRecorder::default(),
        });
        let scrape_metrics = async {
            if let Some(m) = &mut metrics {
                every(self.metrics_interval, done, m).await;
            }
        };
        let read_gpus = async {
            if let Some(r) = &mut readings {
                every(self.gpu_interval, done, r).await;
            }
        };
        tokio::join!(scrape_metrics, read_gpus);
        (
            metrics.and_then(|m| m.recorder.summary()),
            readings.map(|r| r.recorder.summary()).unwrap_or_default(),
        )
    }
}
