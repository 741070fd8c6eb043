//! Stored histograms: any bytes (base64-encoded, as a result file holds them) decode
//! without panicking or allocating what their header claims.
#![no_main]

use base64::Engine;
use libfuzzer_sys::fuzz_target;
use llm_loadtest::metrics::LatencyHistogram;

fuzz_target!(|data: &[u8]| {
    let text = base64::engine::general_purpose::STANDARD.encode(data);
    if let Ok(histogram) = LatencyHistogram::from_base64(&text) {
        let _ = histogram.summary();
        let _ = histogram.samples_ms(100);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = LatencyHistogram::from_base64(text);
    }
});
