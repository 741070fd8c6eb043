//! The verdict's operating characteristic, measured on the embedded simulator's engine in
//! virtual time (no HTTP, no sleeping): many A/A comparisons (identical engines) and A/B
//! comparisons (every step 5%, 10% or 20% slower), at 1 and 3 trials a run, with and
//! without a baseline history of 5 earlier runs, under run-to-run drift (a speed factor
//! drawn per start; every trial is a start) and per-step jitter. Every run passes through
//! the product's own path: request timelines → `PointAccumulator` → trials pooled → result
//! file → `baseline update` (history rotation) → `compare`. Prints a Markdown table of the
//! share of comparisons whose worst verdict is regressed, warning or inconclusive.
//!
//! `cargo bench --bench verdicts [-- COMPARISONS [DRIFT_PCT [JITTER_PCT]]]`, default 200
//! comparisons a cell, 3% drift, 10% jitter.

use std::path::Path;
use std::time::{Duration, Instant};

use llm_loadtest::client::Exchange;
use llm_loadtest::compare::baseline::{self, baseline_file};
use llm_loadtest::compare::verdict::Verdict;
use llm_loadtest::compare::{self};
use llm_loadtest::metrics::{add_trial, PointAccumulator, PointFacts, TimelineBuilder};
use llm_loadtest::result::{PointResult, RunResult};
use llm_loadtest::scenario::{LoadShape, PointSpec};
use llm_loadtest::sim::offline::{closed_loop, Timeline};
use llm_loadtest::sim::{engine_config, SpeedNoise};

/// The workload of every run: one point, 4 concurrent requests of 512 prompt tokens and 32
/// output tokens, 48 measured requests, on the H100 profile.
const PROFILE: &str = "h100-llama3-8b";
const CONCURRENCY: u32 = 4;
const REQUESTS: usize = 48;
const PROMPT_TOKENS: u32 = 512;
const OUTPUT_TOKENS: u32 = 32;
/// Earlier accepted runs in the baseline's history, when it has one.
const HISTORY: usize = 5;
const SLOWDOWNS: [f64; 4] = [0.0, 0.05, 0.10, 0.20];
/// A real result: the shape of every run's result (scenario, environment).
const TEMPLATE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/llamacpp-smollm2.result.json"
);

/// The noise of every engine start.
#[derive(Clone, Copy)]
struct Noise {
    drift: f64,
    jitter: f64,
}

/// One cell of the table: how the runs are made and what the current run suffers.
#[derive(Clone, Copy)]
struct Cell {
    trials: u32,
    history: usize,
    slowdown: f64,
}

/// How many comparisons of a cell ended with each worst verdict.
#[derive(Default)]
struct Tally {
    regressed: usize,
    warning: usize,
    inconclusive: usize,
    quiet: usize,
}

fn main() {
    let args: Vec<f64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let comparisons = args.first().map_or(200, |&n| n as usize);
    let noise = Noise {
        drift: args.get(1).map_or(3.0, |&p| p) / 100.0,
        jitter: args.get(2).map_or(10.0, |&p| p) / 100.0,
    };
    let template = baseline::read_result(Path::new(TEMPLATE)).expect("the fixture reads");
    println!(
        "{comparisons} comparisons a cell; drift {:.0}% per start, jitter {:.0}% per step; \
         one point: concurrency {CONCURRENCY}, {REQUESTS} requests of {PROMPT_TOKENS} + \
         {OUTPUT_TOKENS} tokens on {PROFILE}\n",
        noise.drift * 100.0,
        noise.jitter * 100.0
    );
    println!("| trials | history | slowdown | regressed | warning | inconclusive | no change |");
    println!("|--:|--:|--:|--:|--:|--:|--:|");
    let started = Instant::now();
    for (trials, history) in [(1, 0), (1, HISTORY), (3, 0), (3, HISTORY)] {
        for slowdown in SLOWDOWNS {
            let cell = Cell {
                trials,
                history,
                slowdown,
            };
            let tally = run_cell(cell, noise, comparisons, &template);
            let share = |n: usize| format!("{:.1}%", 100.0 * n as f64 / comparisons as f64);
            println!(
                "| {trials} | {history} | {} | {} | {} | {} | {} |",
                if slowdown == 0.0 {
                    "A/A".to_owned()
                } else {
                    format!("+{:.0}%", slowdown * 100.0)
                },
                share(tally.regressed),
                share(tally.warning),
                share(tally.inconclusive),
                share(tally.quiet)
            );
        }
    }
    eprintln!("\n{:.0} s", started.elapsed().as_secs_f64());
}

/// The comparisons of one cell, on two threads.
fn run_cell(cell: Cell, noise: Noise, comparisons: usize, template: &RunResult) -> Tally {
    let workers = 2;
    let verdicts: Vec<Verdict> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || {
                    (w..comparisons)
                        .step_by(workers)
                        .map(|i| compare_once(cell, noise, i as u64, template))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker"))
            .collect()
    });
    let mut tally = Tally::default();
    for verdict in verdicts {
        match verdict {
            Verdict::Regressed => tally.regressed += 1,
            Verdict::Warning => tally.warning += 1,
            Verdict::Inconclusive => tally.inconclusive += 1,
            _ => tally.quiet += 1,
        }
    }
    tally
}

/// One comparison: the baseline (after its history) made by `baseline update`, the
/// current run compared with it; returns the worst verdict of the comparison's rows.
fn compare_once(cell: Cell, noise: Noise, index: u64, template: &RunResult) -> Verdict {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let seed = |role: u64| index * 1000 + role * 10;
    for role in 0..=cell.history as u64 {
        let run = run(template, cell.trials, noise, 0.0, seed(role + 1));
        let file = dir.path().join(format!("run{role}.json"));
        std::fs::write(&file, serde_json::to_string(&run).expect("a result")).expect("written");
        baseline::update(&[file], dir.path(), 10).expect("a baseline");
    }
    let baseline = baseline::read_baseline(&baseline_file(dir.path(), &template.scenario.name))
        .expect("the baseline reads");
    let current = run(template, cell.trials, noise, cell.slowdown, seed(0));
    let comparison = compare::compare(Some(&baseline), &current, index);
    [Verdict::Regressed, Verdict::Warning, Verdict::Inconclusive]
        .into_iter()
        .find(|v| comparison.rows.iter().any(|r| r.verdict == *v))
        .unwrap_or(Verdict::NoChange)
}

/// A run of `trials` trials, each a start of the engine with its own drift.
fn run(template: &RunResult, trials: u32, noise: Noise, slowdown: f64, seed: u64) -> RunResult {
    let mut point = measure(noise, slowdown, seed);
    for trial in 1..trials {
        add_trial(
            &mut point,
            measure(noise, slowdown, seed + u64::from(trial)),
        );
    }
    let mut result = template.clone();
    result.started_at = format!("run-{seed}");
    result.points = vec![point];
    result.history.clear();
    result
}

/// One trial: the engine's timelines folded into a point as the runner folds requests.
fn measure(noise: Noise, slowdown: f64, seed: u64) -> PointResult {
    let mut config = engine_config(PROFILE, &Default::default()).expect("a built-in profile");
    config.speed = SpeedNoise {
        drift: noise.drift,
        jitter: noise.jitter,
        slowdown,
        seed,
    };
    let spec = PointSpec {
        id: format!("concurrency={CONCURRENCY},input_tokens={PROMPT_TOKENS}"),
        params: [
            ("concurrency".to_owned(), CONCURRENCY.into()),
            ("input_tokens".to_owned(), PROMPT_TOKENS.into()),
        ]
        .into(),
        input_tokens: PROMPT_TOKENS,
        input: Some(llm_loadtest::scenario::LengthSpec::Fixed(PROMPT_TOKENS)),
        shape: LoadShape::Closed {
            concurrency: CONCURRENCY,
        },
        configuration: 0,
    };
    let start = Instant::now();
    let timelines = closed_loop(
        config,
        CONCURRENCY as usize,
        REQUESTS,
        PROMPT_TOKENS,
        OUTPUT_TOKENS,
    );
    let timeline = TimelineBuilder::new(start, Duration::from_secs(1));
    let mut accumulator = PointAccumulator::new(false, PROMPT_TOKENS, None, Some(timeline));
    for timeline in &timelines {
        let exchange = exchange(start, timeline);
        accumulator.add(exchange.sent, None, &exchange);
    }
    accumulator.finish(&spec, PointFacts::default())
}

/// The exchange a client would have timed for `timeline`, starting at `start`.
fn exchange(start: Instant, timeline: &Timeline) -> Exchange {
    let at = |us: u64| start + Duration::from_micros(us);
    let mut exchange = Exchange::new(at(timeline.sent_us));
    exchange.first_token = timeline.tokens_us.first().map(|&us| at(us));
    exchange.end = at(*timeline.tokens_us.last().unwrap_or(&timeline.sent_us));
    exchange.content_offsets_us = timeline
        .tokens_us
        .iter()
        .map(|&us| (us - timeline.sent_us) as u32)
        .collect();
    exchange
}
