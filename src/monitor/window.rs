//! Sampling beside the load during a point's measured window: GPU readings (NVML) and the
//! server's Prometheus metrics, each at its own interval, from the end of warmup (when
//! `measuring` is notified) until the point ends (`done`), with a last sample at the end;
//! summed over the window, and their gauges averaged in the windows of the point's
//! timeline.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::gauges::GaugeWindows;
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
    /// Width of the windows of the point's timeline.
    pub timeline_window: Duration,
}

/// What was sampled during a point.
#[derive(Debug, Default)]
pub struct Sampled {
    pub server_metrics: Option<ServerMetrics>,
    pub gpu: Vec<GpuStats>,
    /// The width of the gauge windows (the timeline's, doubled for each merge), and per
    /// window, oldest first, each gauge's mean in it.
    pub gauges: (Duration, Vec<BTreeMap<String, f64>>),
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
    windows: GaugeWindows,
}

impl AsyncSample for &mut Metrics<'_> {
    async fn take(&mut self) {
        let text = scrape(self.http, self.url).await;
        // Parsing a vLLM page (histograms included) takes milliseconds: off the thread
        // that times the chunks.
        let mut recorder = std::mem::take(&mut self.recorder);
        let parsed = tokio::task::spawn_blocking(move || {
            let gauges = recorder.add(text);
            (recorder, gauges)
        });
        let (recorder, gauges) = parsed.await.unwrap_or_default();
        self.recorder = recorder;
        self.windows.add(gauges);
    }
}

struct Readings {
    gpus: Arc<Gpus>,
    recorder: GpuRecorder,
    windows: GaugeWindows,
}

impl AsyncSample for &mut Readings {
    async fn take(&mut self) {
        // NVML calls block for up to milliseconds: off the thread that times the chunks.
        let gpus = self.gpus.clone();
        let readings = tokio::task::spawn_blocking(move || gpus.read())
            .await
            .unwrap_or_default();
        self.windows.add(readings.iter().flat_map(|r| {
            let gpu = |what: &str| format!("gpu{}.{what}", r.index);
            [
                Some((gpu("memory_used_mib"), r.memory_used_mib)),
                r.utilization_pct.map(|u| (gpu("utilization_pct"), u)),
                r.power_w.map(|w| (gpu("power_w"), w)),
            ]
            .into_iter()
            .flatten()
        }));
        self.recorder.add(readings);
    }
}

impl WindowMonitor<'_> {
    /// Samples from `measuring` until `done`.
    pub async fn watch(&self, measuring: &Notify, done: &CancellationToken) -> Sampled {
        tokio::select! {
            _ = measuring.notified() => {}
            _ = done.cancelled() => return Sampled::default(),
        }
        let mut metrics = self.metrics_url.as_ref().map(|url| Metrics {
            http: self.http,
            url,
            recorder: MetricsRecorder::default(),
            windows: GaugeWindows::new(self.timeline_window),
        });
        let mut readings = self.gpus.clone().map(|gpus| Readings {
            gpus,
            recorder: GpuRecorder::default(),
            windows: GaugeWindows::new(self.timeline_window),
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
        let (server_metrics, server_windows) = match metrics {
            Some(m) => (m.recorder.summary(), Some(m.windows)),
            None => (None, None),
        };
        let (gpu, gpu_windows) = match readings {
            Some(r) => (r.recorder.summary(), Some(r.windows)),
            None => (Vec::new(), None),
        };
        let empty = || GaugeWindows::new(self.timeline_window);
        Sampled {
            server_metrics,
            gpu,
            gauges: GaugeWindows::means([
                server_windows.unwrap_or_else(empty),
                gpu_windows.unwrap_or_else(empty),
            ]),
        }
    }
}
