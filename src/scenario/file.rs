//! Reading a scenario file: JSON parse with the path of the offending field in every
//! error, then semantic validation. Errors name the file, the field and what was expected.

use std::path::{Path, PathBuf};

use super::{validate, Scenario};

/// A scenario that could not be read, parsed or validated.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{path}: cannot read: {reason}")]
    Read {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("{path}: {field}: {message}")]
    Invalid {
        path: PathBuf,
        /// Dotted path of the field, e.g. `load.concurrency[1]`.
        field: String,
        message: String,
    },
    #[error(transparent)]
    Dataset(#[from] super::DatasetError),
}

/// Reads, parses and validates a scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|reason| ScenarioError::Read {
        path: path.to_owned(),
        reason,
    })?;
    parse_str(&text, path)
}

/// Parses and validates scenario JSON; `path` is only used in error messages.
pub fn parse_str(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    let invalid = |field: String, message: String| ScenarioError::Invalid {
        path: path.to_owned(),
        field,
        message,
    };
    let de = &mut serde_json::Deserializer::from_str(text);
    let scenario: Scenario = serde_path_to_error::deserialize(de).map_err(|err| {
        let field = match err.path().to_string() {
            p if p == "." => "(document)".to_owned(),
            p => p,
        };
        invalid(field, err.into_inner().to_string())
    })?;
    validate(&scenario).map_err(|e| invalid(e.field, e.message))?;
    Ok(scenario)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
        "name": "s", "target": {"base_url": "http://127.0.0.1:8000"},
        "workload": {"input_tokens": 128, "output_tokens": 16},
        "load": {"concurrency": [1, 2], "requests": 4}
    }"#;

    fn error_of(text: &str) -> String {
        parse_str(text, Path::new("x.json"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn parses_a_minimal_scenario_with_defaults() {
        let s = parse_str(GOOD, Path::new("x.json")).unwrap();
        assert_eq!(
            s.workload.input_tokens,
            vec![super::super::LengthSpec::Fixed(128)]
        );
        assert!(s.workload.stream && s.workload.ignore_eos);
        assert_eq!((s.load.warmup, s.load.trials), (3, 1));
    }

    #[test]
    fn unknown_field_names_file_and_field() {
        let text = GOOD.replace("\"requests\"", "\"requestz\"");
        let msg = error_of(&text);
        assert!(msg.starts_with("x.json: load.requestz: "), "{msg}");
        assert!(msg.contains("unknown field `requestz`"), "{msg}");
    }

    #[test]
    fn wrong_type_names_the_nested_field() {
        let text = GOOD.replace("[1, 2]", "[1, \"two\"]");
        let msg = error_of(&text);
        assert!(msg.contains("load.concurrency[1]"), "{msg}");
    }

    #[test]
    fn semantic_errors_name_the_field() {
        let text = GOOD.replace("\"concurrency\": [1, 2]", "\"concurrency\": [1, 0]");
        assert!(error_of(&text).contains("load.concurrency[1]"));
        for trials in [0, 101] {
            let text = GOOD.replace(
                "\"requests\": 4",
                &format!("\"requests\": 4, \"trials\": {trials}"),
            );
            let msg = error_of(&text);
            assert!(
                msg.contains(
                    "x.json: load.trials: must be at least 1 and at most 100 trials per point"
                ),
                "{msg}"
            );
        }
    }
}
