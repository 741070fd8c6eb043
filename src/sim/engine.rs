//! The simulated engine: continuous batching in steps, like vLLM's scheduler. Each step
//! decodes one token for every running sequence and spends the rest of its token budget
//! (`max_num_batched_tokens`) on prefill: in chunks beside the decodes with chunked prefill,
//! or, without it, in prefill-only steps that stall every decode. A sequence is admitted
//! when the KV cache has room for its prompt; when decodes outgrow the cache the newest
//! sequence is preempted (recomputed later). A step lasts what its work costs on the
//! profile, and its tokens are sent when it ends: timing comes from the model, not sleeps
//! per request.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::profile::Profile;
use super::speed::{Pace, SpeedNoise};

/// What a request hears from the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// One generated token.
    Token,
    /// The last token was sent.
    Finished,
}

/// A request submitted to the engine.
pub struct Request {
    pub prompt_tokens: u32,
    pub max_tokens: u32,
    pub events: mpsc::UnboundedSender<Event>,
}

/// How the engine is configured (the server-side knobs of a sweep).
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    pub profile: Profile,
    pub chunked_prefill: bool,
    pub max_num_batched_tokens: u32,
    pub tp: u32,
    /// KV-cache capacity of each GPU, tokens.
    pub kv_tokens_per_gpu: u64,
    /// Drift, jitter and slowdown of the pace (none by default).
    pub speed: SpeedNoise,
}

impl EngineConfig {
    /// KV-cache capacity in tokens: each GPU of the TP group adds its memory.
    pub fn kv_capacity(&self) -> u64 {
        self.kv_tokens_per_gpu * u64::from(self.tp.max(1))
    }

    /// How long a step with this work takes.
    fn step_time(&self, prefill_tokens: u32, decodes: usize, context_tokens: u64) -> Duration {
        let p = &self.profile;
        let mut compute = f64::from(prefill_tokens) * p.prefill_ms_per_token;
        if decodes > 0 {
            compute += p.decode_step_ms
                + p.decode_ms_per_seq * decodes as f64
                + p.decode_us_per_context_token * context_tokens as f64 / 1000.0;
        }
        let tp = f64::from(self.tp.max(1));
        let speedup = tp * p.tp_efficiency.powf(tp.log2());
        let comm = if self.tp > 1 {
            p.tp_comm_ms_per_step
        } else {
            0.0
        };
        Duration::from_secs_f64((compute / speedup + comm) / 1000.0)
    }
}

/// Engine state for `/metrics` (vLLM's names).
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub running: usize,
    pub waiting: usize,
    pub kv_used_tokens: u64,
    pub kv_capacity_tokens: u64,
    pub preemptions_total: u64,
    pub prompt_tokens_total: u64,
    pub generation_tokens_total: u64,
    pub requests_finished_total: u64,
}

struct Sequence {
    request: Request,
    /// Tokens to prefill at admission: the prompt, plus what was generated before a
    /// preemption (recomputed).
    to_prefill: u32,
    prefilled: u32,
    generated: u32,
}

impl Sequence {
    fn in_prefill(&self) -> bool {
        self.prefilled < self.to_prefill
    }

    /// Tokens this sequence holds in the KV cache: its whole prompt is reserved when it
    /// is admitted, then one slot per token generated since.
    fn kv_tokens(&self) -> u64 {
        let recomputed = self.to_prefill - self.request.prompt_tokens;
        u64::from(self.to_prefill) + u64::from(self.generated.saturating_sub(recomputed))
    }
}

/// The work of one step: prefill chunks (index into running, tokens) and decodes.
pub(super) struct Step {
    prefill: Vec<(usize, u32)>,
    decode: Vec<usize>,
}

pub(super) struct Scheduler {
    config: EngineConfig,
    running: Vec<Sequence>,
    waiting: VecDeque<Sequence>,
    stats: Arc<Mutex<Stats>>,
    pace: Pace,
}

impl Scheduler {
    /// A started engine: its pace drawn, nothing queued.
    pub fn new(config: EngineConfig, stats: Arc<Mutex<Stats>>) -> Self {
        Self {
            pace: Pace::start(&config.speed),
            config,
            running: Vec::new(),
            waiting: VecDeque::new(),
            stats,
        }
    }

    /// Queues a request.
    pub fn queue(&mut self, request: Request) {
        self.waiting.push_back(Sequence {
            to_prefill: request.prompt_tokens,
            prefilled: 0,
            generated: 0,
            request,
        });
    }

    /// Whether nothing runs or waits.
    pub fn idle(&self) -> bool {
        self.running.is_empty() && self.waiting.is_empty()
    }

    /// Plans the next step and how long it takes; [`Self::complete`] applies it.
    pub fn next_step(&mut self) -> (Step, Duration) {
        let step = self.schedule();
        self.publish();
        let prefill_tokens: u32 = step.prefill.iter().map(|p| p.1).sum();
        let context: u64 = step
            .decode
            .iter()
            .map(|&i| self.running[i].kv_tokens())
            .sum();
        let cost = self
            .config
            .step_time(prefill_tokens, step.decode.len(), context);
        (step, self.pace.scale(cost))
    }

    fn kv_used(&self) -> u64 {
        self.running.iter().map(Sequence::kv_tokens).sum()
    }

    /// Moves the newest running sequence back to the front of the queue, to be recomputed.
    fn preempt_newest(&mut self) {
        if let Some(mut seq) = self.running.pop() {
            seq.to_prefill = seq.request.prompt_tokens + seq.generated;
            seq.prefilled = 0;
            self.waiting.push_front(seq);
            self.stats
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .preemptions_total += 1;
        }
    }

    /// Admits waiting sequences while the batch, the budget and the KV cache allow; each
    /// gets a prefill chunk of at most `budget` (its whole prompt when `whole`).
    fn admit(&mut self, budget: &mut u32, whole: bool, step: &mut Step) {
        let capacity = self.config.kv_capacity();
        while *budget > 0 && self.running.len() < self.config.profile.max_num_seqs {
            let Some(next) = self.waiting.front() else {
                break;
            };
            let fits_budget = !whole || next.to_prefill <= *budget || step.prefill.is_empty();
            if self.kv_used() + u64::from(next.to_prefill) + 1 > capacity || !fits_budget {
                break;
            }
            let seq = self.waiting.pop_front().expect("checked above");
            let chunk = if whole {
                seq.to_prefill
            } else {
                seq.to_prefill.min(*budget)
            };
            *budget = budget.saturating_sub(chunk);
            step.prefill.push((self.running.len(), chunk));
            self.running.push(seq);
        }
    }

    /// Decides what the next step does.
    fn schedule(&mut self) -> Step {
        let mut step = Step {
            prefill: Vec::new(),
            decode: Vec::new(),
        };
        let mut budget = self.config.max_num_batched_tokens;
        if !self.config.chunked_prefill {
            // Prefill first, alone; decodes wait for a step without it.
            self.admit(&mut budget, true, &mut step);
            if !step.prefill.is_empty() {
                return step;
            }
        }
        // Decodes need one more KV slot each: make room by preemption.
        let capacity = self.config.kv_capacity();
        loop {
            let decoding = self.running.iter().filter(|s| !s.in_prefill()).count() as u64;
            if self.kv_used() + decoding <= capacity || self.running.len() <= 1 {
                break;
            }
            self.preempt_newest();
        }
        for (i, seq) in self.running.iter().enumerate() {
            if !seq.in_prefill() && budget > 0 {
                step.decode.push(i);
                budget -= 1;
            }
        }
        if self.config.chunked_prefill {
            for (i, seq) in self.running.iter().enumerate() {
                if seq.in_prefill() && budget > 0 {
                    let chunk = (seq.to_prefill - seq.prefilled).min(budget);
                    step.prefill.push((i, chunk));
                    budget -= chunk;
                }
            }
            self.admit(&mut budget, false, &mut step);
        }
        step
    }

    /// Applies a finished step: advances prefills, sends tokens, retires finished ones.
    pub fn complete(&mut self, step: &Step) {
        let mut emitted = 0u64;
        let mut prompt = 0u64;
        let mut emit = |seq: &mut Sequence| {
            seq.generated += 1;
            emitted += 1;
            let _ = seq.request.events.send(Event::Token);
        };
        for &(i, chunk) in &step.prefill {
            let seq = &mut self.running[i];
            seq.prefilled += chunk;
            prompt += u64::from(chunk);
            if !seq.in_prefill() {
                emit(seq); // the step that ends a prefill samples the next token
            }
        }
        for &i in &step.decode {
            emit(&mut self.running[i]);
        }
        let before = self.running.len();
        self.running.retain(|seq| {
            let done = seq.generated >= seq.request.max_tokens || seq.request.events.is_closed();
            if done {
                let _ = seq.request.events.send(Event::Finished);
            }
            !done
        });
        let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        stats.prompt_tokens_total += prompt;
        stats.generation_tokens_total += emitted;
        stats.requests_finished_total += (before - self.running.len()) as u64;
    }

    fn publish(&self) {
        let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        stats.running = self.running.len();
        stats.waiting = self.waiting.len();
        stats.kv_used_tokens = self.kv_used();
        stats.kv_capacity_tokens = self.config.kv_capacity();
    }
}

/// How early the timer is set before a step's end: tokio's timers fire on millisecond
/// ticks, so the rest is waited out by yielding (the HTTP tasks run meanwhile).
const TIMER_SLACK: Duration = Duration::from_micros(1200);

async fn sleep_precisely_until(due: Instant) {
    tokio::time::sleep_until(due - TIMER_SLACK).await;
    while Instant::now() < due {
        tokio::task::yield_now().await;
    }
}

/// Runs the engine until every request sender is gone.
pub async fn run(
    config: EngineConfig,
    mut requests: mpsc::UnboundedReceiver<Request>,
    stats: Arc<Mutex<Stats>>,
) {
    let mut scheduler = Scheduler::new(config, stats);
    let mut clock = Instant::now();
    loop {
        while let Ok(request) = requests.try_recv() {
            scheduler.queue(request);
        }
        if scheduler.idle() {
            scheduler.publish();
            match requests.recv().await {
                Some(request) => scheduler.queue(request),
                None => return,
            }
            clock = Instant::now();
            continue;
        }
        let (step, duration) = scheduler.next_step();
        // Steps follow each other on the engine's own clock, so that timer lateness does
        // not accumulate; after a stall the clock restarts from now.
        clock = (clock + duration).max(Instant::now() - Duration::from_millis(5));
        sleep_precisely_until(clock).await;
        scheduler.complete(&step);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::profile::profile;

    fn config(name: &str, chunked: bool, budget: u32, tp: u32) -> EngineConfig {
        EngineConfig {
            profile: profile(name).unwrap().clone(),
            chunked_prefill: chunked,
            max_num_batched_tokens: budget,
            tp,
            kv_tokens_per_gpu: profile(name).unwrap().kv_capacity_tokens,
            speed: SpeedNoise::default(),
        }
    }

    #[test]
    fn step_time_follows_the_profile_and_tp() {
        let c = config("fixed-20ms", true, 2048, 1);
        assert_eq!(c.step_time(0, 1, 0), Duration::from_millis(20));
        assert_eq!(c.step_time(1000, 0, 0), Duration::from_millis(100));
        let h100 = config("h100-llama3-8b", true, 2048, 1);
        let h100_tp2 = config("h100-llama3-8b", true, 2048, 2);
        let (one, two) = (h100.step_time(0, 8, 8000), h100_tp2.step_time(0, 8, 8000));
        assert!(
            two < one && two.as_secs_f64() > one.as_secs_f64() / 2.0,
            "{one:?} {two:?}"
        );
        assert_eq!(h100_tp2.kv_capacity(), 900_000);
    }

    fn scheduler(config: EngineConfig) -> Scheduler {
        Scheduler::new(config, Arc::default())
    }

    fn request(prompt: u32, max_tokens: u32) -> (Sequence, mpsc::UnboundedReceiver<Event>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let seq = Sequence {
            request: Request {
                prompt_tokens: prompt,
                max_tokens,
                events: tx,
            },
            to_prefill: prompt,
            prefilled: 0,
            generated: 0,
        };
        (seq, rx)
    }

    #[test]
    fn without_chunked_prefill_a_prompt_stalls_the_decodes() {
        for chunked in [false, true] {
            let mut s = scheduler(config("h100-llama3-8b", chunked, 512, 1));
            let (a, _ra) = request(100, 10);
            s.waiting.push_back(a);
            let step = s.schedule();
            s.complete(&step);
            let (b, _rb) = request(2000, 10);
            s.waiting.push_back(b);
            let step = s.schedule();
            if chunked {
                assert_eq!(step.decode.len(), 1, "the decode goes on");
                assert_eq!(step.prefill, [(1, 511)], "with a chunk of the new prompt");
            } else {
                assert!(step.decode.is_empty(), "the decode waits");
                assert_eq!(step.prefill, [(1, 2000)]);
            }
        }
    }

    #[test]
    fn a_full_kv_cache_queues_new_prompts_and_preempts_growing_ones() {
        let mut c = config("fixed-20ms", true, 100_000, 1);
        c.kv_tokens_per_gpu = 1000;
        let mut s = scheduler(c);
        let (a, _ra) = request(600, 100);
        let (b, _rb) = request(600, 100);
        s.waiting.extend([a, b]);
        let step = s.schedule();
        assert_eq!(
            step.prefill.len(),
            1,
            "the second prompt does not fit: it waits"
        );
        s.complete(&step);
        assert_eq!(s.waiting.len(), 1);
        let mut small = scheduler(s.config.clone());
        let (c1, _r1) = request(490, 100);
        let (c2, _r2) = request(490, 100);
        small.waiting.extend([c1, c2]);
        let step = small.schedule();
        small.complete(&step);
        for _ in 0..30 {
            let step = small.schedule();
            small.complete(&step);
        }
        assert!(small.stats.lock().unwrap().preemptions_total > 0);
        assert!(small.kv_used() <= 1000);
    }
}
