//! The client's cost per streamed chunk: SSE framing, JSON parse and timing record
//! (`StreamTimer`), then folding the request into the point's histograms
//! (`PointAccumulator`). Criterion reports chunks per second; the cost per chunk is its
//! inverse. Chunks are llama.cpp's, byte for byte.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use llm_loadtest::client::{adapter_for, StreamTimer};
use llm_loadtest::metrics::{PointAccumulator, TimelineBuilder};
use llm_loadtest::scenario::Api;

const CHUNKS: usize = 64;

fn chunk(text: &str) -> String {
    format!(
        "data: {{\"choices\":[{{\"finish_reason\":null,\"index\":0,\"delta\":{{\"content\":\"{text}\"}}}}],\
         \"created\":1795792763,\"id\":\"chatcmpl-pI5zcBf3T97wVnScm945Fj5yXwRWXRC3\",\
         \"model\":\"SmolLM2-135M-Instruct.Q4_1.gguf\",\"system_fingerprint\":\"b1-0c1e570\",\
         \"object\":\"chat.completion.chunk\"}}\n\n"
    )
}

/// One read per event, as a server flushing every token produces.
fn reads() -> Vec<Vec<u8>> {
    let mut reads: Vec<Vec<u8>> = (0..CHUNKS)
        .map(|i| chunk(&format!(" w{i}")).into_bytes())
        .collect();
    reads.push(
        b"data: {\"choices\":[],\"usage\":{\"completion_tokens\":64,\"prompt_tokens\":512,\"total_tokens\":576},\
          \"timings\":{\"prompt_n\":512,\"prompt_ms\":1500.1,\"predicted_n\":64,\"predicted_per_token_ms\":9.9}}\n\n"
            .to_vec(),
    );
    reads.push(b"data: [DONE]\n\n".to_vec());
    reads
}

fn time_stream(reads: &[Vec<u8>]) -> llm_loadtest::client::Exchange {
    let chat = adapter_for(Api::Chat);
    let mut timer = StreamTimer::new(Instant::now(), false, chat.as_ref());
    for read in reads {
        timer.on_read(read, Instant::now());
    }
    timer.finish()
}

fn per_chunk(c: &mut Criterion) {
    let reads = reads();
    let mut group = c.benchmark_group("per_chunk");
    group.throughput(Throughput::Elements(CHUNKS as u64));
    group.bench_function("frame_parse_time", |b| {
        b.iter(|| black_box(time_stream(black_box(&reads))))
    });

    // The same bytes in 1 KiB reads: events split across reads and several per read.
    let joined = reads.concat();
    let split: Vec<Vec<u8>> = joined.chunks(1024).map(<[u8]>::to_vec).collect();
    group.bench_function("frame_parse_time_split_reads", |b| {
        b.iter(|| black_box(time_stream(black_box(&split))))
    });

    let exchange = time_stream(&reads);
    let scheduled = exchange.sent;
    let timeline = TimelineBuilder::new(scheduled, Duration::from_secs(1));
    let mut acc = PointAccumulator::new(false, 512, None, Some(timeline));
    group.bench_function("aggregate", |b| {
        b.iter(|| acc.add(scheduled, None, black_box(&exchange)))
    });
    group.finish();
}

criterion_group!(benches, per_chunk);
criterion_main!(benches);
