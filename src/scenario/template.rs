//! Substitution in a launched server's command, environment and working directory:
//! `{var}` becomes the configuration's value of a matrix variable (or the launch's
//! `{port}`), `{var?A:B}` becomes A when the value is true and B otherwise, and `{{` / `}}`
//! are literal braces. `${ENV}` is left alone for the environment expansion that follows,
//! so that a recorded command line never holds an expanded secret.

use std::collections::BTreeMap;

use serde_json::Value;

/// A malformed template, or one that names a variable the configuration lacks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlaceholderError {
    #[error("`{template}`: unclosed `${{`")]
    UnclosedEnvironment { template: String },
    #[error("`{template}`: unmatched `}}` (write `}}}}` for a brace)")]
    UnmatchedBrace { template: String },
    #[error("`{template}`: unclosed `{{` (write `{{{{` for a brace)")]
    UnclosedBrace { template: String },
    #[error("`{template}`: `{{{inner}}}` is not `{{name}}` or `{{name?A:B}}`")]
    NotAPlaceholder { template: String, inner: String },
    #[error("`{template}`: no variable `{name}`")]
    NoVariable { template: String, name: String },
}

/// One piece of a parsed template.
enum Piece<'a> {
    Text(&'a str),
    /// `{name}` or `{name?if_true:if_false}`.
    Var {
        name: &'a str,
        choice: Option<(&'a str, &'a str)>,
    },
}

fn parse(template: &str) -> Result<Vec<Piece<'_>>, PlaceholderError> {
    let owned = || template.to_owned();
    let mut pieces = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        let next = rest.find(['{', '}', '$']).unwrap_or(rest.len());
        if next > 0 {
            pieces.push(Piece::Text(&rest[..next]));
            rest = &rest[next..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("${") {
            // An environment reference: kept whole for the environment expansion.
            let end = after
                .find('}')
                .ok_or_else(|| PlaceholderError::UnclosedEnvironment { template: owned() })?;
            pieces.push(Piece::Text(&rest[..end + 3]));
            rest = &after[end + 1..];
        } else if rest.starts_with("{{") || rest.starts_with("}}") {
            pieces.push(Piece::Text(&rest[..1]));
            rest = &rest[2..];
        } else if rest.starts_with('$') {
            pieces.push(Piece::Text("$"));
            rest = &rest[1..];
        } else if rest.starts_with('}') {
            return Err(PlaceholderError::UnmatchedBrace { template: owned() });
        } else {
            let end = rest
                .find('}')
                .ok_or_else(|| PlaceholderError::UnclosedBrace { template: owned() })?;
            let inner = &rest[1..end];
            let (name, choice) = match inner.split_once('?') {
                Some((name, options)) => {
                    // The last colon: A may hold URLs and ports (`--api-base=http://h:8000`).
                    let (yes, no) = options.rsplit_once(':').unwrap_or((options, ""));
                    (name, Some((yes, no)))
                }
                None => (inner, None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(PlaceholderError::NotAPlaceholder {
                    template: owned(),
                    inner: inner.to_owned(),
                });
            }
            pieces.push(Piece::Var { name, choice });
            rest = &rest[end + 1..];
        }
    }
    Ok(pieces)
}

/// The variable names `template` refers to, in order.
pub fn placeholders(template: &str) -> Result<Vec<String>, PlaceholderError> {
    Ok(parse(template)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Var { name, .. } => Some(name.to_owned()),
            Piece::Text(_) => None,
        })
        .collect())
}

/// A value as command-line text: strings bare, booleans `true`/`false`, numbers as written.
pub fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether a value counts as true for `{name?A:B}`.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !matches!(s.as_str(), "" | "0" | "false" | "off" | "no"),
        Value::Null => false,
        _ => true,
    }
}

/// `template` with every placeholder replaced from `vars`.
pub fn substitute(
    template: &str,
    vars: &BTreeMap<String, Value>,
) -> Result<String, PlaceholderError> {
    let mut out = String::new();
    for piece in parse(template)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Var { name, choice } => {
                let value = vars.get(name).ok_or_else(|| PlaceholderError::NoVariable {
                    template: template.to_owned(),
                    name: name.to_owned(),
                })?;
                match choice {
                    Some((yes, no)) => out.push_str(if truthy(value) { yes } else { no }),
                    None => out.push_str(&text(value)),
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, Value> {
        BTreeMap::from([
            ("tp".to_owned(), Value::from(2)),
            ("chunked".to_owned(), Value::from(false)),
            ("port".to_owned(), Value::from(8123)),
        ])
    }

    #[test]
    fn variables_choices_and_braces_are_replaced_and_env_references_kept() {
        let v = vars();
        assert_eq!(substitute("--tp={tp}", &v).unwrap(), "--tp=2");
        assert_eq!(
            substitute(
                "{chunked?--enable-chunked-prefill:--no-enable-chunked-prefill}",
                &v
            )
            .unwrap(),
            "--no-enable-chunked-prefill"
        );
        assert_eq!(substitute("{chunked?--on}", &v).unwrap(), "");
        assert_eq!(
            substitute("{tp?--api=http://h:80:}", &v).unwrap(),
            "--api=http://h:80"
        );
        assert_eq!(
            substitute("${HOME:-/x}/bin:{port}", &v).unwrap(),
            "${HOME:-/x}/bin:8123"
        );
        assert_eq!(substitute("{{\"a\": 1}}$", &v).unwrap(), "{\"a\": 1}$");
        assert_eq!(
            placeholders("{tp}-{chunked?a:b}-${X}").unwrap(),
            ["tp", "chunked"]
        );
    }

    #[test]
    fn malformed_templates_say_what_is_wrong() {
        let v = vars();
        assert!(substitute("{tp", &v)
            .unwrap_err()
            .to_string()
            .contains("unclosed `{`"));
        assert!(substitute("tp}", &v)
            .unwrap_err()
            .to_string()
            .contains("unmatched `}`"));
        assert!(substitute("{nope}", &v)
            .unwrap_err()
            .to_string()
            .contains("no variable `nope`"));
        assert!(substitute("{a b}", &v)
            .unwrap_err()
            .to_string()
            .contains("is not `{name}`"));
    }
}
