//! Semantic checks a JSON schema cannot express: one load mode, positive values,
//! a parseable base URL, thresholds that parse and have what they read. Each error names
//! the field.

use super::template::placeholders;
use super::thresholds::{is_compared_metric, thresholds_of};
use super::{Arrival, Load, PromptKind, Scenario, ServerSpec, Stage};

/// A scenario field that is not valid, with the reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// Dotted path of the field, e.g. `load.concurrency[1]`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

pub(super) fn err(field: &str, msg: &str) -> Result<(), FieldError> {
    Err(FieldError::new(field, msg))
}

/// Why `name` cannot name a scenario, if it cannot: it names the baseline file and is
/// printed in terminals, so it is one plain file name.
pub fn name_problem(name: &str) -> Option<&'static str> {
    if name.trim().is_empty() {
        Some("must not be empty")
    } else if name.contains(['/', '\\']) {
        Some("must not contain path separators (it names the baseline file)")
    } else if name == "." || name == ".." {
        Some("must not be `.` or `..` (it names the baseline file)")
    } else if name.chars().any(char::is_control) {
        Some("must not contain control characters")
    } else {
        None
    }
}

/// Checks a parsed scenario; on failure names the field and the reason.
pub fn validate(s: &Scenario) -> Result<(), FieldError> {
    if let Some(problem) = name_problem(&s.name) {
        return err("name", problem);
    }
    if let Some(embedded) = s.target.embedded {
        if !s.target.base_url.is_empty() || s.server.is_some() {
            return err(
                "target.embedded",
                "an embedded server takes neither `target.base_url` nor `server`",
            );
        }
        match embedded {
            super::Embedded::Sim => {
                let name = s.target.profile.as_deref().unwrap_or_default();
                crate::sim::profile(name)
                    .map_err(|e| FieldError::new("target.profile", e.to_string()))?;
                validate_sim_knobs(s, name)?;
            }
        }
        return validate_rest(s);
    }
    if s.target.profile.is_some() {
        return err("target.profile", "only applies to `embedded: sim`");
    }
    let base_url = s.target.base_url.replace(PORT_PLACEHOLDER, "1");
    if !base_url.contains("${") && reqwest::Url::parse(&base_url).is_err() {
        return err(
            "target.base_url",
            "expected an http(s) URL such as http://127.0.0.1:8000",
        );
    }
    if s.target.base_url.contains(PORT_PLACEHOLDER)
        && !s
            .server
            .as_ref()
            .is_some_and(|server| server.command.iter().any(|a| a.contains(PORT_PLACEHOLDER)))
    {
        return err(
            "target.base_url",
            "`{port}` needs a `server.command` that takes `{port}`",
        );
    }
    if let Some(server) = &s.server {
        validate_server(s, server)?;
    }
    validate_rest(s)
}

/// Each value of a simulator knob in the matrix configures the simulator as `run` would
/// (one that does not fit in the GPU's memory is left for the run to report).
fn validate_sim_knobs(s: &Scenario, profile: &str) -> Result<(), FieldError> {
    for knob in crate::sim::KNOBS {
        for (i, value) in s.matrix.get(knob).into_iter().flatten().enumerate() {
            let values = std::collections::BTreeMap::from([(knob.to_owned(), value.clone())]);
            match crate::sim::engine_config(profile, &values) {
                // A valid setting the GPU cannot hold: that point fails to start, as on
                // a real server.
                Ok(_) | Err(crate::sim::SimConfigError::OutOfMemory(_)) => {}
                Err(e) => {
                    return Err(FieldError::new(
                        &format!("matrix.{knob}[{i}]"),
                        e.to_string(),
                    ))
                }
            }
        }
    }
    Ok(())
}

/// Checks everything but the target.
fn validate_rest(s: &Scenario) -> Result<(), FieldError> {
    validate_matrix(s)?;
    super::validate_workload::validate_workload(s)?;
    validate_load(s)?;
    validate_plan_size(s)?;
    validate_thresholds(s)?;
    validate_compare(s)?;
    validate_slo(s)
}

fn validate_load(s: &Scenario) -> Result<(), FieldError> {
    let l = &s.load;
    match &l.stages {
        _ if s.workload.prompt.kind == PromptKind::Trace => validate_trace_load(l)?,
        Some(stages) => validate_stages(l, stages)?,
        None => {
            validate_levels(l)?;
            validate_stop(l)?;
        }
    }
    in_range(
        "load.burstiness",
        l.burstiness,
        0.0,
        MAX_BURSTINESS,
        "(gamma shape)",
    )?;
    if l.arrival != Arrival::Gamma && l.burstiness != 1.0 {
        return err("load.burstiness", "only applies to `arrival: gamma`");
    }
    count_in_range("load.trials", l.trials, MAX_TRIALS, "trials per point")?;
    in_range("load.timeout_s", l.timeout_s, 0.0, MAX_SECONDS, "seconds")?;
    in_range(
        "load.timeline_window_s",
        l.timeline_window_s,
        MIN_TIMELINE_WINDOW_S,
        MAX_SECONDS,
        "seconds",
    )
}

/// Refuses the first field of `names` that `l` gives, with `message`.
fn refuse_given(l: &Load, names: &[&str], message: &str) -> Result<(), FieldError> {
    let given = |name: &&&str| match **name {
        "concurrency" => l.concurrency.is_some(),
        "rate" => l.rate.is_some(),
        "stages" => l.stages.is_some(),
        "shape" => l.shape.is_some(),
        "requests" => l.requests.is_some(),
        _ => l.duration_s.is_some(),
    };
    match names.iter().find(given) {
        Some(name) => err(&format!("load.{name}"), message),
        None => Ok(()),
    }
}

/// A trace is its own schedule: no levels, stages or request count; `duration_s` may cut
/// it short.
fn validate_trace_load(l: &Load) -> Result<(), FieldError> {
    refuse_given(
        l,
        &["concurrency", "rate", "stages", "shape", "requests"],
        "not with a trace: the trace is the schedule (`prompt.sample` keeps its first entries, `duration_s` cuts it short)",
    )?;
    match l.duration_s {
        Some(d) => in_range("load.duration_s", d, 0.0, MAX_SECONDS, "seconds"),
        None => Ok(()),
    }
}

/// Exactly one of `concurrency` and `rate`, each level in range.
fn validate_levels(l: &Load) -> Result<(), FieldError> {
    match (&l.concurrency, &l.rate) {
        (Some(_), Some(_)) | (None, None) => err(
            "load",
            "give exactly one of `concurrency` (closed loop), `rate` (open loop) or `stages`",
        ),
        (Some(levels), None) => {
            if levels.is_empty() {
                return err("load.concurrency", "must list at least one level");
            }
            for (i, &c) in levels.iter().enumerate() {
                let field = format!("load.concurrency[{i}]");
                count_in_range(&field, c, MAX_CONCURRENCY, "requests in flight")?;
            }
            Ok(())
        }
        (None, Some(rates)) => {
            if rates.is_empty() {
                return err("load.rate", "must list at least one rate");
            }
            for (i, &rate) in rates.iter().enumerate() {
                let field = format!("load.rate[{i}]");
                in_range(&field, rate, MIN_RATE, MAX_RATE, "requests per second")?;
            }
            Ok(())
        }
    }
}

/// Exactly one of `requests` and `duration_s` (a shape lasts `duration_s`).
fn validate_stop(l: &Load) -> Result<(), FieldError> {
    match (l.requests, l.duration_s) {
        (Some(_), _) if l.shape.is_some() => err(
            "load.requests",
            "a `shape` lasts `duration_s`; give that instead",
        ),
        (Some(_), Some(_)) | (None, None) => {
            err("load", "give exactly one of `requests` or `duration_s`")
        }
        (Some(0), None) => err("load.requests", "must be at least 1"),
        (None, Some(d)) => in_range("load.duration_s", d, 0.0, MAX_SECONDS, "seconds"),
        _ => Ok(()),
    }
}

/// Stages alone (no levels, shape, request count or duration), all of one kind, each in
/// range, lasting some time in all.
fn validate_stages(l: &Load, stages: &[Stage]) -> Result<(), FieldError> {
    refuse_given(
        l,
        &["concurrency", "rate", "shape", "requests", "duration_s"],
        "not with `stages`: the stages give the levels and the duration",
    )?;
    if stages.is_empty() {
        return err("load.stages", "must list at least one stage");
    }
    let closed = stages[0].concurrency.is_some();
    for (i, stage) in stages.iter().enumerate() {
        let field = |name: &str| format!("load.stages[{i}].{name}");
        match (stage.concurrency, stage.rate) {
            (Some(c), None) if closed => {
                if c > MAX_CONCURRENCY {
                    return err(
                        &field("concurrency"),
                        &format!("must be at most {MAX_CONCURRENCY}"),
                    );
                }
            }
            (None, Some(r)) if !closed => {
                if !(r.is_finite() && (0.0..=MAX_RATE).contains(&r)) {
                    return err(
                        &field("rate"),
                        &format!("must be from 0 to {MAX_RATE} requests per second"),
                    );
                }
            }
            _ => {
                return err(
                    &format!("load.stages[{i}]"),
                    "give one of `concurrency` or `rate`, the same in every stage",
                )
            }
        }
        if !(stage.duration_s.is_finite() && (0.0..=MAX_SECONDS).contains(&stage.duration_s)) {
            return err(
                &field("duration_s"),
                &format!("must be from 0 to {MAX_SECONDS} seconds"),
            );
        }
    }
    if stages.iter().map(|s| s.duration_s).sum::<f64>() <= 0.0 {
        return err(
            "load.stages",
            "must last some time: every stage has `duration_s` 0",
        );
    }
    Ok(())
}

/// The plan (configurations × input lengths × load levels) stays within [`MAX_POINTS`],
/// counted before anything is expanded.
fn validate_plan_size(s: &Scenario) -> Result<(), FieldError> {
    let loads = match (&s.load.concurrency, &s.load.rate) {
        (Some(levels), _) => levels.len(),
        (None, Some(rates)) => rates.len(),
        (None, None) => usize::from(s.load.stages.is_some()),
    };
    let points = s
        .matrix
        .values()
        .map(Vec::len)
        .chain([s.workload.input_tokens.len().max(1), loads])
        .try_fold(1usize, usize::checked_mul)
        .filter(|&n| n <= MAX_POINTS);
    match points {
        Some(_) => Ok(()),
        None => err(
            "matrix",
            &format!(
                "the matrix × input lengths × load levels give more than {MAX_POINTS} points; split the scenario"
            ),
        ),
    }
}

fn validate_compare(s: &Scenario) -> Result<(), FieldError> {
    for (metric, t) in &s.compare {
        let field = format!("compare.{metric}");
        if !is_compared_metric(metric) {
            return err(&field, "unknown metric; expected e.g. ttft_ms.p50, itl_ms.p99, output_tokens_per_s, goodput or error_rate");
        }
        in_range(
            &format!("{field}.warn_pct"),
            t.warn_pct,
            0.0,
            1000.0,
            "percent",
        )?;
        in_range(
            &format!("{field}.fail_pct"),
            t.fail_pct,
            0.0,
            1000.0,
            "percent",
        )?;
        if t.warn_pct > t.fail_pct {
            return err(&field, "warn_pct must not exceed fail_pct");
        }
    }
    Ok(())
}

fn validate_slo(s: &Scenario) -> Result<(), FieldError> {
    match &s.slo {
        Some(slo) => slo_in_range("slo", slo),
        None => Ok(()),
    }
}

/// Each criterion of `slo` (the field `at`) is a positive number of milliseconds.
pub(super) fn slo_in_range(at: &str, slo: &super::Slo) -> Result<(), FieldError> {
    for (name, value) in [
        ("ttft_ms", slo.ttft_ms),
        ("tpot_ms", slo.tpot_ms),
        ("e2e_ms", slo.e2e_ms),
    ] {
        if let Some(v) = value {
            let field = format!("{at}.{name}");
            in_range(&field, v, 0.0, MAX_SECONDS * 1000.0, "milliseconds")?;
        }
    }
    Ok(())
}

/// The SLO thresholds parse, and those of goodput have an `slo` to measure it by.
fn validate_thresholds(s: &Scenario) -> Result<(), FieldError> {
    let Some(spec) = &s.thresholds else {
        return Ok(());
    };
    let thresholds = thresholds_of(spec)?;
    if s.slo.is_none() && thresholds.iter().any(|t| t.metric == "goodput") {
        return err(
            "thresholds.goodput[0]",
            "needs an `slo` (goodput is the share of requests that meet it)",
        );
    }
    Ok(())
}

/// The launch's port in `server.command` and `target.base_url`.
pub const PORT_PLACEHOLDER: &str = "{port}";
/// Names a matrix variable cannot take: the harness sets them.
const RESERVED: [&str; 6] = [
    "port",
    "input_tokens",
    "input_dist",
    "concurrency",
    "rate",
    "trace",
];

fn validate_matrix(s: &Scenario) -> Result<(), FieldError> {
    for (name, values) in &s.matrix {
        let field = format!("matrix.{name}");
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return err(&field, "names are letters, digits and `_`");
        }
        if RESERVED.contains(&name.as_str()) {
            return err(&field, "is set by the harness; choose another name");
        }
        if values.is_empty() {
            return err(&field, "must list at least one value");
        }
        if let Some(i) = values
            .iter()
            .position(|v| v.as_str().is_some_and(|s| s.chars().any(char::is_control)))
        {
            return err(
                &format!("{field}[{i}]"),
                "must not contain control characters",
            );
        }
        if let Some(i) = values
            .iter()
            .position(|v| !(v.is_number() || v.is_string() || v.is_boolean()))
        {
            return err(
                &format!("{field}[{i}]"),
                "expected a number, a string or a boolean",
            );
        }
    }
    Ok(())
}

fn validate_server(s: &Scenario, server: &ServerSpec) -> Result<(), FieldError> {
    if server.command.first().is_none_or(|p| p.trim().is_empty()) {
        return err("server.command", "must name a program");
    }
    let templates = server
        .command
        .iter()
        .enumerate()
        .map(|(i, arg)| (format!("server.command[{i}]"), arg))
        .chain(
            server
                .env
                .iter()
                .map(|(k, v)| (format!("server.env.{k}"), v)),
        )
        .chain(server.cwd.iter().map(|c| ("server.cwd".to_owned(), c)));
    for (field, template) in templates {
        for name in placeholders(template).map_err(|e| FieldError::new(&field, e.to_string()))? {
            if name != "port" && !s.matrix.contains_key(&name) {
                return Err(FieldError::new(
                    &field,
                    format!("`{{{name}}}` is neither a matrix variable nor `{{port}}`"),
                ));
            }
        }
    }
    if server
        .ready
        .path
        .as_ref()
        .is_some_and(|p| !p.starts_with('/'))
    {
        return err("server.ready.path", "expected a path such as /health");
    }
    in_range(
        "server.ready.timeout_s",
        server.ready.timeout_s,
        0.0,
        MAX_SECONDS,
        "seconds",
    )?;
    in_range(
        "server.stop.grace_s",
        server.stop.grace_s,
        0.0,
        3600.0,
        "seconds",
    )
}

/// The most tokens of a prompt or an answer: ten million, the longest context any model
/// has; more would only make the harness allocate prompts no server takes.
pub(super) const MAX_TOKENS: u32 = 10_000_000;
/// The most requests in flight at once from one harness process.
const MAX_CONCURRENCY: u32 = 100_000;
/// The most times one point is measured in a run.
pub const MAX_TRIALS: u32 = 100;
/// The most points in one plan.
const MAX_POINTS: usize = 10_000;

/// `value` must be at least 1 and at most `max`.
pub(super) fn count_in_range(
    field: &str,
    value: u32,
    max: u32,
    unit: &str,
) -> Result<(), FieldError> {
    if (1..=max).contains(&value) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!("must be at least 1 and at most {max} {unit}, got {value}"),
        ))
    }
}

/// One week: the longest duration or timeout a point may have.
pub(super) const MAX_SECONDS: f64 = 7.0 * 24.0 * 3600.0;
/// One request per 1,000 s: slower rates are better run with `concurrency: [1]`.
const MIN_RATE: f64 = 0.001;
const MAX_RATE: f64 = 1_000_000.0;
const MAX_BURSTINESS: f64 = 1000.0;

/// `value` must be finite, above `above` and at most `max`.
/// Narrowest timeline window (a window must hold some requests to mean anything).
const MIN_TIMELINE_WINDOW_S: f64 = 0.01;

pub(super) fn in_range(
    field: &str,
    value: f64,
    above: f64,
    max: f64,
    unit: &str,
) -> Result<(), FieldError> {
    if value.is_finite() && value > above && value <= max {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!("must be above {above} and at most {max} {unit}, got {value}"),
        ))
    }
}
