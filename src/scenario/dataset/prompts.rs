//! Entries of prompt sets: a JSONL line (`{"prompt": ...}` or `{"messages": [...]}`, with
//! an optional `output_tokens`) or a ShareGPT conversation (the first human turn as the
//! prompt, the turn after it as the recorded reply).

use serde_json::Value;

use super::{problem, Entry, EntryPrompt, Message, Problem};
use crate::scenario::PromptKind;

/// ShareGPT's names of the user's turns (others are the model's, or `system`).
const HUMAN: [&str; 2] = ["human", "user"];

/// The entry of one prompt-set element; `needs_output` when the entry must say its
/// output length (an `output_tokens` field, or a ShareGPT reply).
pub(super) fn entry(kind: PromptKind, value: &Value, needs_output: bool) -> Result<Entry, Problem> {
    let object = value
        .as_object()
        .ok_or_else(|| problem("(line)", "expected a JSON object"))?;
    let output_tokens = match object.get("output_tokens").or(object.get("max_tokens")) {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|&n| n > 0)
                .ok_or_else(|| {
                    problem(
                        "output_tokens",
                        format!("expected a positive token count, got {v}"),
                    )
                })?,
        ),
    };
    let entry = match kind {
        PromptKind::Sharegpt => sharegpt(value, output_tokens)?,
        _ => Entry {
            prompt: jsonl_prompt(value)?,
            output_tokens,
            reply: None,
            offset: None,
        },
    };
    if needs_output && entry.output_tokens.is_none() && entry.reply.is_none() {
        let field = if kind == PromptKind::Sharegpt {
            "conversations"
        } else {
            "output_tokens"
        };
        return Err(problem(
            field,
            "says no output length, and `workload.output_tokens` is not given",
        ));
    }
    Ok(entry)
}

/// A JSONL line's `prompt` text or `messages` (which must hold a user turn).
fn jsonl_prompt(value: &Value) -> Result<EntryPrompt, Problem> {
    if let Some(prompt) = value.get("prompt") {
        return prompt
            .as_str()
            .filter(|p| !p.is_empty())
            .map(|p| EntryPrompt::Text(p.to_owned()))
            .ok_or_else(|| problem("prompt", "expected a non-empty string"));
    }
    let Some(messages) = value.get("messages") else {
        return Err(problem(
            "prompt",
            "expected a `prompt` string or a `messages` array",
        ));
    };
    let messages: Vec<Message> = serde_path_to_error::deserialize(messages).map_err(|e| {
        let field = format!("messages{}", e.path()).replace("messages.[", "messages[");
        problem(
            &field,
            format!(
                "{} (a message is {{\"role\", \"content\"}})",
                e.into_inner()
            ),
        )
    })?;
    if !messages.iter().any(|m| m.role == "user") {
        return Err(problem(
            "messages",
            "no user turn (a message with `role: user`)",
        ));
    }
    Ok(EntryPrompt::Messages(messages))
}

/// A ShareGPT conversation: its first human turn and the reply to it.
fn sharegpt(value: &Value, output_tokens: Option<u32>) -> Result<Entry, Problem> {
    let turns = value
        .get("conversations")
        .and_then(Value::as_array)
        .ok_or_else(|| problem("conversations", "expected an array of turns"))?;
    let text = |turn: &Value, i: usize| -> Result<(String, String), Problem> {
        let field = |name: &str| format!("conversations[{i}].{name}");
        let from = turn.get("from").and_then(Value::as_str);
        let value = turn.get("value").and_then(Value::as_str);
        match (from, value) {
            (Some(f), Some(v)) => Ok((f.to_owned(), v.to_owned())),
            (None, _) => Err(problem(
                &field("from"),
                "expected a string (`human` or `gpt`)",
            )),
            (_, None) => Err(problem(&field("value"), "expected a string")),
        }
    };
    let turns = turns
        .iter()
        .enumerate()
        .map(|(i, t)| text(t, i))
        .collect::<Result<Vec<_>, _>>()?;
    let first = turns
        .iter()
        .position(|(from, value)| HUMAN.contains(&from.as_str()) && !value.is_empty())
        .ok_or_else(|| problem("conversations", "no user turn (`from`: `human`)"))?;
    let reply = turns
        .get(first + 1)
        .filter(|(from, _)| !HUMAN.contains(&from.as_str()))
        .map(|(_, value)| value.clone())
        .filter(|v| !v.is_empty());
    Ok(Entry {
        prompt: EntryPrompt::Text(turns[first].1.clone()),
        output_tokens,
        reply,
        offset: None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::read;
    use super::*;

    #[test]
    fn jsonl_lines_give_a_prompt_or_messages_and_their_output_length() {
        let text = r#"{"prompt": "Hello", "output_tokens": 12}
{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "max_tokens": 3}
"#;
        let set = read(PromptKind::Jsonl, text).unwrap();
        assert_eq!(set.entries[0].prompt, EntryPrompt::Text("Hello".into()));
        assert_eq!(set.entries[0].output_tokens, Some(12));
        assert!(matches!(&set.entries[1].prompt, EntryPrompt::Messages(m) if m.len() == 2));
        assert_eq!(set.entries[1].output_tokens, Some(3));
    }

    #[test]
    fn bad_jsonl_lines_name_their_field() {
        for (line, shown) in [
            (
                r#"{"messages": [{"role": "system", "content": "x"}], "output_tokens": 1}"#,
                "F:1: messages: no user turn",
            ),
            (
                r#"{"messages": [{"role": "user"}], "output_tokens": 1}"#,
                "F:1: messages[0]: missing field `content`",
            ),
            (
                r#"{"text": "x", "output_tokens": 1}"#,
                "F:1: prompt: expected a `prompt` string",
            ),
            (
                r#"{"prompt": "x", "output_tokens": -1}"#,
                "F:1: output_tokens: expected a positive token count",
            ),
            (
                r#"{"prompt": "x"}"#,
                "F:1: output_tokens: says no output length",
            ),
        ] {
            let e = read(PromptKind::Jsonl, line).unwrap_err();
            assert!(e.starts_with(shown), "{e}");
        }
    }

    #[test]
    fn sharegpt_takes_the_first_human_turn_and_its_reply() {
        let text = r#"{"id": "a", "conversations": [{"from": "system", "value": "s"}, {"from": "human", "value": "Q1"}, {"from": "gpt", "value": "A1"}, {"from": "human", "value": "Q2"}]}"#;
        let set = read(PromptKind::Sharegpt, text).unwrap();
        let entry = &set.entries[0];
        assert_eq!(entry.prompt, EntryPrompt::Text("Q1".into()));
        assert_eq!(entry.reply.as_deref(), Some("A1"));
    }
}
