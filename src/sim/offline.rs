//! The engine in virtual time: a closed loop of requests driven through the same scheduler
//! with no HTTP and no sleeping, each step advancing a clock by what it costs. Each
//! request's send time and token arrivals come out, in microseconds from the start; the
//! verdict calibration bench turns them into results.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::engine::{Event, Request, Scheduler};
use super::EngineConfig;

/// One request's timeline, in microseconds from the start of the loop.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub sent_us: u64,
    /// The arrival of each generated token.
    pub tokens_us: Vec<u64>,
}

/// `requests` requests of `prompt_tokens` tokens, each answered with `max_tokens` tokens,
/// kept `concurrency` at a time on one start of the engine `config`.
pub fn closed_loop(
    config: EngineConfig,
    concurrency: usize,
    requests: usize,
    prompt_tokens: u32,
    max_tokens: u32,
) -> Vec<Timeline> {
    let mut scheduler = Scheduler::new(config, Arc::default());
    let mut in_flight: Vec<(Timeline, mpsc::UnboundedReceiver<Event>)> = Vec::new();
    let mut done = Vec::with_capacity(requests);
    let mut sent = 0;
    let mut clock_us = 0u64;
    loop {
        while sent < requests && in_flight.len() < concurrency {
            let (events, received) = mpsc::unbounded_channel();
            scheduler.queue(Request {
                prompt_tokens,
                max_tokens,
                events,
            });
            let timeline = Timeline {
                sent_us: clock_us,
                tokens_us: Vec::new(),
            };
            in_flight.push((timeline, received));
            sent += 1;
        }
        if scheduler.idle() {
            return done;
        }
        let (step, duration) = scheduler.next_step();
        clock_us += duration.as_micros() as u64;
        scheduler.complete(&step);
        in_flight.retain_mut(|(timeline, received)| {
            while let Ok(event) = received.try_recv() {
                if event == Event::Finished {
                    done.push(timeline.clone());
                    return false;
                }
                timeline.tokens_us.push(clock_us);
            }
            true
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{engine_config, SpeedNoise};

    #[test]
    fn the_fixed_profile_decodes_every_20_ms_in_virtual_time() {
        let mut config = engine_config("fixed-20ms", &Default::default()).unwrap();
        let timelines = closed_loop(config.clone(), 1, 3, 100, 5);
        assert_eq!(timelines.len(), 3);
        let first = &timelines[0];
        let gaps: Vec<u64> = first.tokens_us.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(gaps, [20_000; 4]);
        // The second request is sent when the first ends.
        assert_eq!(timelines[1].sent_us, *first.tokens_us.last().unwrap());
        config.speed = SpeedNoise {
            slowdown: 0.5,
            ..SpeedNoise::default()
        };
        let slow = closed_loop(config, 1, 1, 100, 5);
        assert_eq!(slow[0].tokens_us[1] - slow[0].tokens_us[0], 30_000);
    }
}
