//! The server's Prometheus `/metrics`, scraped during each measured window and parsed with
//! openmetrics-parser: the series of vLLM (`vllm:`), SGLang (`sglang:`) and llama.cpp
//! (`llamacpp:`), each summed over its label sets. Counters are kept as their increase over
//! the window, gauges as peak and mean; vLLM's prefix-cache hit rate is derived from its
//! counters. Scrape failures are counted, never fatal.

use std::collections::BTreeMap;

use openmetrics_parser::{prometheus::parse_prometheus, PrometheusValue};

use crate::result::ServerMetrics;

/// A scrape that failed or could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    /// No answer (connection, timeout), the URL left out.
    #[error("{0}")]
    Transport(reqwest::Error),
    #[error("HTTP {0}")]
    Status(reqwest::StatusCode),
    #[error("not Prometheus text: {0}")]
    Parse(String),
}

/// Series families kept; others (process, Python, HTTP) are the server's plumbing.
const PREFIXES: [&str; 3] = ["vllm:", "sglang:", "llamacpp:"];

/// One scrape: counters and gauges by name, summed over label sets.
#[derive(Debug, Default)]
struct Reading {
    counters: BTreeMap<String, f64>,
    gauges: BTreeMap<String, f64>,
}

fn parse(text: &str) -> Result<Reading, ScrapeError> {
    let exposition = parse_prometheus(text).map_err(|e| ScrapeError::Parse(format!("{e:?}")))?;
    let mut reading = Reading::default();
    for (name, family) in &exposition.families {
        if !PREFIXES.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        for sample in family.iter_samples() {
            let add = |map: &mut BTreeMap<String, f64>, key: String, v: f64| {
                if v.is_finite() {
                    *map.entry(key).or_default() += v;
                }
            };
            // Ratios (KV-cache usage) of several engines are not additive: keep the highest.
            let ratio = name.ends_with("_perc") || name.ends_with("_ratio");
            let gauge = |map: &mut BTreeMap<String, f64>, key: String, v: f64| {
                if ratio {
                    let slot = map.entry(key).or_insert(v);
                    *slot = slot.max(v);
                } else {
                    add(map, key, v);
                }
            };
            match &sample.value {
                PrometheusValue::Counter(c) => {
                    add(&mut reading.counters, name.clone(), c.value.as_f64())
                }
                PrometheusValue::Gauge(g) => gauge(&mut reading.gauges, name.clone(), g.as_f64()),
                PrometheusValue::Unknown(v) if name.ends_with("_total") => {
                    add(&mut reading.counters, name.clone(), v.as_f64())
                }
                PrometheusValue::Unknown(v) => gauge(&mut reading.gauges, name.clone(), v.as_f64()),
                PrometheusValue::Histogram(h) => {
                    if let Some(sum) = &h.sum {
                        add(&mut reading.counters, format!("{name}_sum"), sum.as_f64());
                    }
                    if let Some(count) = h.count {
                        add(&mut reading.counters, format!("{name}_count"), count as f64);
                    }
                }
                PrometheusValue::Summary(s) => {
                    if let Some(sum) = &s.sum {
                        add(&mut reading.counters, format!("{name}_sum"), sum.as_f64());
                    }
                    if let Some(count) = s.count {
                        add(&mut reading.counters, format!("{name}_count"), count as f64);
                    }
                }
            }
        }
    }
    Ok(reading)
}

/// The scrapes of one window, folded as they come (the first and last for the counters'
/// increases, each gauge's peak, sum and count), so a soak of hours holds one scrape's
/// worth of figures.
#[derive(Debug, Default)]
pub struct MetricsRecorder {
    first: Option<Reading>,
    last: Option<Reading>,
    peaks: BTreeMap<String, f64>,
    sums: BTreeMap<String, (f64, u32)>,
    scrapes: u32,
    failed: u32,
}

impl MetricsRecorder {
    /// Adds one scrape's text, or a failed scrape; returns its gauges.
    pub fn add(&mut self, scrape: Result<String, ScrapeError>) -> BTreeMap<String, f64> {
        let reading = match scrape.and_then(|text| parse(&text)) {
            Ok(reading) => reading,
            Err(e) => {
                tracing::debug!("cannot read the server's metrics: {e}");
                self.failed += 1;
                return BTreeMap::new();
            }
        };
        self.scrapes += 1;
        for (name, &v) in &reading.gauges {
            let peak = self.peaks.entry(name.clone()).or_insert(v);
            *peak = f64::max(*peak, v);
            let (sum, n) = self.sums.entry(name.clone()).or_default();
            *sum += v;
            *n += 1;
        }
        let gauges = reading.gauges.clone();
        match self.first {
            None => self.first = Some(reading),
            Some(_) => self.last = Some(reading),
        }
        gauges
    }

    /// The window's summary; `None` when no scrape succeeded.
    pub fn summary(&self) -> Option<ServerMetrics> {
        let first = self.first.as_ref()?;
        let last = self.last.as_ref().unwrap_or(first);
        let deltas: BTreeMap<String, f64> = last
            .counters
            .iter()
            .filter_map(|(name, &end)| {
                let start = *first.counters.get(name)?;
                // A counter that went down means the server restarted: no delta.
                (end >= start).then(|| (name.clone(), end - start))
            })
            .collect();
        let peaks = self.peaks.clone();
        let means = self
            .sums
            .iter()
            .map(|(name, (sum, n))| (name.clone(), sum / f64::from(*n)))
            .collect();
        let mut derived = BTreeMap::new();
        // vLLM's own prefix cache (V1), else its older GPU-cache names; not a connector's.
        for prefix in ["vllm:prefix_cache", "vllm:gpu_prefix_cache"] {
            let queries = deltas.get(&format!("{prefix}_queries_total"));
            let hits = deltas.get(&format!("{prefix}_hits_total"));
            if let (Some(&q), Some(&h)) = (queries, hits) {
                if q > 0.0 {
                    derived.insert("prefix_cache_hit_rate".into(), h / q);
                }
                break;
            }
        }
        Some(ServerMetrics {
            scrapes: self.scrapes,
            failed_scrapes: self.failed,
            deltas,
            peaks,
            means,
            derived,
        })
    }
}

/// The text of `url` (the server's `/metrics`), within two seconds.
pub async fn scrape(http: &reqwest::Client, url: &reqwest::Url) -> Result<String, ScrapeError> {
    let transport = |e: reqwest::Error| ScrapeError::Transport(e.without_url());
    let response = http
        .get(url.clone())
        .timeout(std::time::Duration::from_secs(2))
        .send()
        .await
        .map_err(transport)?;
    if !response.status().is_success() {
        return Err(ScrapeError::Status(response.status()));
    }
    response.text().await.map_err(transport)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LLAMACPP: &str = include_str!("../../tests/fixtures/llamacpp.metrics.txt");

    const VLLM: &str = r#"# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} RUNNING
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="m"} 0.0
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="m"} KV
# TYPE vllm:num_preemptions_total counter
vllm:num_preemptions_total{engine="0",model_name="m"} PREEMPT
# TYPE vllm:prefix_cache_queries_total counter
vllm:prefix_cache_queries_total{engine="0",model_name="m"} QUERIES
# TYPE vllm:prefix_cache_hits_total counter
vllm:prefix_cache_hits_total{engine="0",model_name="m"} HITS
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{le="1.0",model_name="m"} 2.0
vllm:e2e_request_latency_seconds_bucket{le="+Inf",model_name="m"} COUNT
vllm:e2e_request_latency_seconds_count{model_name="m"} COUNT
vllm:e2e_request_latency_seconds_sum{model_name="m"} 3.5
# TYPE python_gc_objects_collected_total counter
python_gc_objects_collected_total{generation="0"} 1234.0
"#;

    fn vllm(running: u32, kv: f64, preempt: u32, queries: u32, hits: u32, count: u32) -> String {
        VLLM.replace("RUNNING", &running.to_string())
            .replace("KV", &kv.to_string())
            .replace("PREEMPT", &preempt.to_string())
            .replace("QUERIES", &queries.to_string())
            .replace("HITS", &hits.to_string())
            .replace("COUNT", &count.to_string())
    }

    #[test]
    fn llama_cpp_series_are_read() {
        let mut recorder = MetricsRecorder::default();
        recorder.add(Ok(LLAMACPP.to_owned()));
        let busy = LLAMACPP
            .replace(
                "llamacpp:prompt_tokens_total 0",
                "llamacpp:prompt_tokens_total 512",
            )
            .replace(
                "llamacpp:requests_processing 0",
                "llamacpp:requests_processing 2",
            );
        recorder.add(Ok(busy));
        let m = recorder.summary().unwrap();
        assert_eq!(m.scrapes, 2);
        assert_eq!(m.deltas["llamacpp:prompt_tokens_total"], 512.0);
        assert_eq!(m.peaks["llamacpp:requests_processing"], 2.0);
        assert_eq!(m.means["llamacpp:requests_processing"], 1.0);
    }

    #[test]
    fn vllm_series_give_deltas_peaks_and_the_prefix_cache_hit_rate() {
        let mut recorder = MetricsRecorder::default();
        recorder.add(Ok(vllm(0, 0.0, 3, 1000, 100, 10)));
        recorder.add(Ok(vllm(8, 0.75, 3, 1500, 200, 12)));
        recorder.add(Err(ScrapeError::Parse("timeout".into())));
        recorder.add(Ok(vllm(4, 0.5, 5, 2000, 300, 20)));
        let m = recorder.summary().unwrap();
        assert_eq!((m.scrapes, m.failed_scrapes), (3, 1));
        assert_eq!(m.peaks["vllm:num_requests_running"], 8.0);
        assert_eq!(m.peaks["vllm:kv_cache_usage_perc"], 0.75);
        assert_eq!(m.deltas["vllm:num_preemptions_total"], 2.0);
        assert_eq!(m.deltas["vllm:e2e_request_latency_seconds_count"], 10.0);
        assert_eq!(m.derived["prefix_cache_hit_rate"], 0.2);
        assert!(!m.deltas.keys().any(|k| k.starts_with("python_")));
    }
}
