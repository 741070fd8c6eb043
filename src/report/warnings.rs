//! What a reader should know before trusting a report's figures: an interrupted run,
//! approximate input lengths, failed servers and points, failed requests with the first
//! message of each kind, counted-not-reported tokens, late sends, prefix-cache hits.

use crate::result::{RunResult, LATE_SEND_MS};

/// What a reader should know before trusting the figures.
pub(super) fn warnings(result: &RunResult) -> Vec<String> {
    let mut warnings = Vec::new();
    if result.partial {
        warnings.push("The run was interrupted: only the points measured so far are here.".into());
    }
    if !result.prompts.exact {
        warnings.push(format!(
            "Input lengths are approximate: prompts were sized with {}, not the server's tokenizer.",
            result.prompts.tokenizer
        ));
    }
    for s in &result.servers {
        if let Some(failure) = &s.failure {
            warnings.push(format!(
                "Server {}: {failure} (log: {}).",
                crate::scenario::point_id(&s.config),
                s.log
            ));
        }
    }
    for p in &result.points {
        if let Some(failure) = &p.failure {
            warnings.push(format!("{}: not measured: {failure}.", p.id));
        }
        if p.requests.failed > 0 {
            warnings.push(format!(
                "{}: {} of {} requests failed ({}).",
                p.id,
                p.requests.failed,
                p.requests.total,
                p.requests.errors_with_samples()
            ));
        }
        if p.tokens.source != "server_usage" && p.requests.ok > 0 {
            warnings.push(format!(
                "{}: output tokens counted one per streamed chunk (the server sent no usage).",
                p.id
            ));
        }
        if p.schedule.late_sends > 0 {
            warnings.push(format!(
                "{}: {} requests were sent more than {LATE_SEND_MS} ms after their scheduled time.",
                p.id, p.schedule.late_sends
            ));
        }
        let overhead = result.prompts.template_overhead_tokens.unwrap_or(0);
        if let Some(cached) = p.tokens.cached_max.filter(|&c| c > overhead) {
            warnings.push(format!(
                "{}: up to {cached} prompt tokens were served from the server's prefix cache.",
                p.id
            ));
        }
    }
    warnings
}
