//! Semantic checks a JSON schema cannot express: one load mode, positive values,
//! a parseable base URL, thresholds that parse and have what they read. Each error names
//! the field.

use super::template::placeholders;
use super::thresholds::{is_compared_metric, thresholds_of};
use super::{Arrival, Scenario, ServerSpec};

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

fn err(field: &str, msg: &str) -> Result<(), FieldError> {
    Err(FieldError::new(field, msg))
}

/// Checks a parsed scenario; on failure names the field and the reason.
pub fn validate(s: &Scenario) -> Result<(), FieldError> {
    if s.name.trim().is_empty() {
        return err("name", "must not be empty");
    }
    if s.name.contains(['/', '\\']) {
        return err(
            "name",
            "must not contain path separators (it names the baseline file)",
        );
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

/// Checks everything but the target.
fn validate_rest(s: &Scenario) -> Result<(), FieldError> {
    validate_matrix(s)?;
    let w = &s.workload;
    if w.input_tokens.is_empty() {
        return err("workload.input_tokens", "must list at least one length");
    }
    if let Some(i) = w.input_tokens.iter().position(|&n| n == 0) {
        return err(&format!("workload.input_tokens[{i}]"), "must be at least 1");
    }
    if w.output_tokens == 0 {
        return err("workload.output_tokens", "must be at least 1");
    }
    let l = &s.load;
    match (&l.concurrency, &l.rate) {
        (Some(_), Some(_)) | (None, None) => {
            return err(
                "load",
                "give exactly one of `concurrency` (closed loop) or `rate` (open loop)",
            )
        }
        (Some(levels), None) => {
            if levels.is_empty() {
                return err("load.concurrency", "must list at least one level");
            }
            if let Some(i) = levels.iter().position(|&c| c == 0) {
                return err(&format!("load.concurrency[{i}]"), "must be at least 1");
            }
        }
        (None, Some(rates)) => {
            if rates.is_empty() {
                return err("load.rate", "must list at least one rate");
            }
            for (i, &rate) in rates.iter().enumerate() {
                in_range(
                    &format!("load.rate[{i}]"),
                    rate,
                    MIN_RATE,
                    MAX_RATE,
                    "requests per second",
                )?;
            }
        }
    }
    match (l.requests, l.duration_s) {
        (Some(_), Some(_)) | (None, None) => {
            return err("load", "give exactly one of `requests` or `duration_s`")
        }
        (Some(0), None) => return err("load.requests", "must be at least 1"),
        (None, Some(d)) => in_range("load.duration_s", d, 0.0, MAX_SECONDS, "seconds")?,
        _ => {}
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
    in_range("load.timeout_s", l.timeout_s, 0.0, MAX_SECONDS, "seconds")?;
    validate_thresholds(s)?;
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
    if let Some(slo) = &s.slo {
        for (name, value) in [
            ("ttft_ms", slo.ttft_ms),
            ("tpot_ms", slo.tpot_ms),
            ("e2e_ms", slo.e2e_ms),
        ] {
            if let Some(v) = value {
                in_range(
                    &format!("slo.{name}"),
                    v,
                    0.0,
                    MAX_SECONDS * 1000.0,
                    "milliseconds",
                )?;
            }
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
const RESERVED: [&str; 4] = ["port", "input_tokens", "concurrency", "rate"];

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
    if !server.ready.path.starts_with('/') {
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

/// One week: the longest duration or timeout a point may have.
const MAX_SECONDS: f64 = 7.0 * 24.0 * 3600.0;
/// One request per 1,000 s: slower rates are better run with `concurrency: [1]`.
const MIN_RATE: f64 = 0.001;
const MAX_RATE: f64 = 1_000_000.0;
const MAX_BURSTINESS: f64 = 1000.0;

/// `value` must be finite, above `above` and at most `max`.
fn in_range(field: &str, value: f64, above: f64, max: f64, unit: &str) -> Result<(), FieldError> {
    if value.is_finite() && value > above && value <= max {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!("must be above {above} and at most {max} {unit}, got {value}"),
        ))
    }
}
