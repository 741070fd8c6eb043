//! Sampling beside the load during a point's measured window: GPU readings (NVML) and the
//! server's Prometheus metrics, each at its own interval, from the end of warmup (when
//! `measuring` is notified) until the point ends (`done`), with a last sample at the end;
//! summed over the window, and their gauges averaged in the windows of the point's
//! timeline.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// Most gauge windows kept; past it neighbours merge and the width doubles.
const MAX_GAUGE_WINDOWS: usize = 1024;

/// Gauges averaged in fixed windows from an origin.
#[derive(Debug)]
struct GaugeWindows {
    origin: Instant,
    width: Duration,
    sums: Vec<BTreeMap<String, (f64, u32)>>,
}

impl GaugeWindows {
    fn new(width: Duration) -> Self {
        Self {
            origin: Instant::now(),
            width: width.max(Duration::from_millis(1)),
            sums: Vec::new(),
        }
    }

    /// Adds gauges read now.
    fn add(&mut self, gauges: impl IntoIterator<Item = (String, f64)>) {
        let offset = self.origin.elapsed();
        let mut index = (offset.as_nanos() / self.width.as_nanos()) as usize;
        while index >= MAX_GAUGE_WINDOWS {
            self.halve();
            index /= 2;
        }
        if self.sums.len() <= index {
            self.sums.resize_with(index + 1, BTreeMap::new);
        }
        for (name, value) in gauges {
            let (sum, n) = self.sums[index].entry(name).or_default();
            *sum += value;
            *n += 1;
        }
    }

    /// Merges neighbouring windows (sums and counts add), doubling the width.
    fn halve(&mut self) {
        self.width *= 2;
        let old = std::mem::take(&mut self.sums);
        for pair in old.chunks(2) {
            let mut merged = pair[0].clone();
            for (name, (sum, n)) in pair.iter().skip(1).flatten() {
                let slot = merged.entry(name.clone()).or_default();
                slot.0 += sum;
                slot.1 += n;
            }
            self.sums.push(merged);
        }
    }

    /// The means of two sets of windows from the same origin, merged at the wider width.
    fn means(mut windows: [Self; 2]) -> (Duration, Vec<BTreeMap<String, f64>>) {
        let width = windows.iter().map(|w| w.width).max().unwrap_or_default();
        for w in &mut windows {
            while w.width < width {
                w.halve();
            }
        }
        let len = windows.iter().map(|w| w.sums.len()).max().unwrap_or(0);
        let means = (0..len)
            .map(|i| {
                windows
                    .iter()
                    .filter_map(|w| w.sums.get(i))
                    .flatten()
                    .map(|(name, (sum, n))| (name.clone(), sum / f64::from(*n)))
                    .collect()
            })
            .collect();
        (width, means)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_are_averaged_per_window_and_merged() {
        let mut server = GaugeWindows::new(Duration::from_secs(3600));
        let mut gpu = GaugeWindows::new(Duration::from_secs(3600));
        server.add([("vllm:num_requests_waiting".to_owned(), 2.0)]);
        server.add([("vllm:num_requests_waiting".to_owned(), 4.0)]);
        gpu.add([("gpu0.memory_used_mib".to_owned(), 1000.0)]);
        let (width, means) = GaugeWindows::means([server, gpu]);
        assert_eq!((width, means.len()), (Duration::from_secs(3600), 1));
        assert_eq!(means[0]["vllm:num_requests_waiting"], 3.0);
        assert_eq!(means[0]["gpu0.memory_used_mib"], 1000.0);
    }
}
