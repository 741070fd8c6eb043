//! Semantic checks of a scenario's `workload`: lengths and distributions in range, the
//! fields each prompt source takes, and traffic classes whose weights sum to a positive
//! number. Each error names the field.

use super::validate::{
    count_in_range, err, in_range, slo_in_range, FieldError, MAX_SECONDS, MAX_TOKENS,
};
use super::{Api, Distribution, LengthSpec, PromptKind, PromptSpec, Scenario, Workload};

/// Most shared prefixes a workload may name.
const MAX_PREFIXES: u32 = 100_000;
/// Most turns of a conversation.
const MAX_TURNS: u32 = 1000;
/// Fastest and slowest trace replay.
const MAX_TIME_SCALE: f64 = 10_000.0;

pub(super) fn validate_workload(s: &Scenario) -> Result<(), FieldError> {
    let w = &s.workload;
    validate_lengths(w)?;
    validate_classes(w, s.target.api)?;
    validate_prompt(w)
}

/// Input lengths where the prompts need them (and not where a file or the classes give
/// them), an output length unless a file gives it, each in range.
fn validate_lengths(w: &Workload) -> Result<(), FieldError> {
    let from_file = w.prompt.kind.reads_file();
    let from_classes = !w.classes.is_empty();
    match (w.input_tokens.is_empty(), from_file, from_classes) {
        (false, true, _) => {
            return err(
                "workload.input_tokens",
                "not with prompts from a file: the file gives them",
            )
        }
        (false, _, true) => {
            return err(
                "workload.input_tokens",
                "not with `classes`: each class gives its own",
            )
        }
        (true, false, false) => {
            return err("workload.input_tokens", "must list at least one length")
        }
        _ => {}
    }
    for (i, length) in w.input_tokens.iter().enumerate() {
        validate_length(&format!("workload.input_tokens[{i}]"), length)?;
    }
    match &w.output_tokens {
        Some(length) => validate_length("workload.output_tokens", length),
        None if from_file
            || (from_classes && w.classes.iter().all(|c| c.output_tokens.is_some())) =>
        {
            Ok(())
        }
        None => err(
            "workload.output_tokens",
            "missing: the output tokens each request asks for",
        ),
    }
}

/// A fixed length or a distribution whose every draw is a valid length.
fn validate_length(field: &str, length: &LengthSpec) -> Result<(), FieldError> {
    let tokens = |f: &str, n: u32| count_in_range(f, n, MAX_TOKENS, "tokens");
    match length {
        LengthSpec::Fixed(n) => tokens(field, *n),
        LengthSpec::Drawn(Distribution::Uniform { min, max }) => {
            tokens(&format!("{field}.min"), *min)?;
            tokens(&format!("{field}.max"), *max)?;
            ordered(field, *min, *max)
        }
        LengthSpec::Drawn(Distribution::Normal { mean, stdev, .. }) => {
            in_range(
                &format!("{field}.mean"),
                *mean,
                0.0,
                f64::from(MAX_TOKENS),
                "tokens",
            )?;
            if !(stdev.is_finite() && *stdev >= 0.0) {
                return err(&format!("{field}.stdev"), "must be 0 or more tokens");
            }
            let (min, max) = length.range();
            tokens(&format!("{field}.min"), min)?;
            tokens(&format!("{field}.max"), max)?;
            ordered(field, min, max)
        }
        LengthSpec::Drawn(Distribution::Empirical { values }) => {
            if values.is_empty() {
                return err(&format!("{field}.values"), "must list at least one length");
            }
            for (i, &n) in values.iter().enumerate() {
                tokens(&format!("{field}.values[{i}]"), n)?;
            }
            Ok(())
        }
    }
}

fn ordered(field: &str, min: u32, max: u32) -> Result<(), FieldError> {
    if min > max {
        return err(
            &format!("{field}.max"),
            &format!("must be at least `min` ({min})"),
        );
    }
    Ok(())
}

/// Named classes with lengths in range and weights that sum to a positive number; a model
/// of their own only where the dialect names the model in the body (Triton's path does).
fn validate_classes(w: &Workload, api: Api) -> Result<(), FieldError> {
    if w.classes.is_empty() {
        return Ok(());
    }
    if !matches!(
        w.prompt.kind,
        PromptKind::Synthetic | PromptKind::SharedPrefix
    ) {
        return err(
            "workload.classes",
            "only with synthetic prompts (`kind`: `synthetic` or `shared_prefix`)",
        );
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, class) in w.classes.iter().enumerate() {
        let field = |name: &str| format!("workload.classes[{i}].{name}");
        if class.name.trim().is_empty() || !names.insert(class.name.as_str()) {
            return err(&field("name"), "must be a name no other class has");
        }
        if !(class.weight.is_finite() && class.weight >= 0.0) {
            return err(
                &field("weight"),
                &format!("must be a number of 0 or more, got {}", class.weight),
            );
        }
        validate_length(&field("input_tokens"), &class.input_tokens)?;
        if let Some(output) = &class.output_tokens {
            validate_length(&field("output_tokens"), output)?;
        }
        if let Some(slo) = &class.slo {
            slo_in_range(&format!("workload.classes[{i}].slo"), slo)?;
        }
        if api == Api::Triton && class.model.is_some() {
            return err(
                &field("model"),
                "not with `target.api: triton`, which serves each model at its own path: one scenario per model",
            );
        }
    }
    if w.classes.iter().map(|c| c.weight).sum::<f64>() <= 0.0 {
        return err(
            "workload.classes",
            "the weights must sum to a positive number",
        );
    }
    Ok(())
}

/// The fields of `prompt` that its kind takes, each in range.
fn validate_prompt(w: &Workload) -> Result<(), FieldError> {
    let p = &w.prompt;
    let given = [
        ("prefixes", p.prefixes.is_some(), PromptKind::SharedPrefix),
        (
            "prefix_tokens",
            p.prefix_tokens.is_some(),
            PromptKind::SharedPrefix,
        ),
        ("turns", p.turns.is_some(), PromptKind::Conversation),
        (
            "think_time_s",
            p.think_time_s.is_some(),
            PromptKind::Conversation,
        ),
        ("time_scale", p.time_scale.is_some(), PromptKind::Trace),
        ("block_tokens", p.block_tokens.is_some(), PromptKind::Trace),
    ];
    if let Some((name, _, _)) = given.iter().find(|(_, on, kind)| *on && *kind != p.kind) {
        return err(
            &format!("workload.prompt.{name}"),
            &format!("does not apply to `kind: {}`", kind_name(p.kind)),
        );
    }
    if p.kind.reads_file() != p.path.is_some() {
        return err(
            "workload.prompt.path",
            "a file is needed by (and only by) `kind` jsonl, sharegpt or trace",
        );
    }
    if let Some(n) = p.sample {
        if !p.kind.reads_file() {
            return err("workload.prompt.sample", "only with prompts from a file");
        }
        count_in_range("workload.prompt.sample", n, u32::MAX, "entries")?;
    }
    match p.kind {
        PromptKind::SharedPrefix => validate_shared_prefix(w),
        PromptKind::Conversation => validate_conversation(p),
        PromptKind::Trace => validate_trace(p),
        _ => Ok(()),
    }
}

fn kind_name(kind: PromptKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A count of prefixes and a length shorter than every input.
fn validate_shared_prefix(w: &Workload) -> Result<(), FieldError> {
    let p = &w.prompt;
    let (Some(n), Some(tokens)) = (p.prefixes, p.prefix_tokens) else {
        return err(
            "workload.prompt",
            "`kind: shared_prefix` needs `prefixes` and `prefix_tokens`",
        );
    };
    count_in_range("workload.prompt.prefixes", n, MAX_PREFIXES, "prefixes")?;
    let inputs = w
        .input_tokens
        .iter()
        .chain(w.classes.iter().map(|c| &c.input_tokens));
    let shortest = inputs.map(|l| l.range().0).min().unwrap_or_default();
    if tokens == 0 || tokens >= shortest {
        return err(
            "workload.prompt.prefix_tokens",
            &format!("must be at least 1 and below the shortest input ({shortest} tokens)"),
        );
    }
    Ok(())
}

fn validate_conversation(p: &PromptSpec) -> Result<(), FieldError> {
    let Some(turns) = p.turns else {
        return err(
            "workload.prompt.turns",
            "missing: the turns of each conversation",
        );
    };
    count_in_range("workload.prompt.turns", turns, MAX_TURNS, "turns")?;
    match p.think_time_s {
        Some(t) if !(t.is_finite() && (0.0..=MAX_SECONDS).contains(&t)) => err(
            "workload.prompt.think_time_s",
            &format!("must be from 0 to {MAX_SECONDS} seconds"),
        ),
        _ => Ok(()),
    }
}

fn validate_trace(p: &PromptSpec) -> Result<(), FieldError> {
    if let Some(scale) = p.time_scale {
        in_range(
            "workload.prompt.time_scale",
            scale,
            0.0,
            MAX_TIME_SCALE,
            "(times faster)",
        )?;
    }
    if let Some(block) = p.block_tokens {
        count_in_range("workload.prompt.block_tokens", block, MAX_TOKENS, "tokens")?;
    }
    Ok(())
}
