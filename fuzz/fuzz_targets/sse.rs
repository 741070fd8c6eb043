//! SSE framing and chunk parsing (the per-read hot path): any bytes, split into reads at
//! any places, end in an exchange without panicking.
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use llm_loadtest::client::StreamTimer;

fuzz_target!(|data: &[u8]| {
    // The first byte sets the read size (1 to 256 bytes), the rest is the stream.
    let Some((&size, stream)) = data.split_first() else {
        return;
    };
    let mut timer = StreamTimer::new(Instant::now());
    for read in stream.chunks(usize::from(size) + 1) {
        if timer.is_finished() {
            break;
        }
        timer.on_read(read, Instant::now());
    }
    let exchange = timer.finish();
    assert!(exchange.end >= exchange.sent);
});
