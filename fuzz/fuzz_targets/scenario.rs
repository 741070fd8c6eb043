//! Scenario files: parsing, validation and planning take any text without panicking, and
//! a scenario they accept plans within bounds.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use llm_loadtest::scenario::{parse_str, Plan};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.json");
    if let Ok(scenario) = parse_str(text, path) {
        if let Ok(plan) = Plan::new(scenario, None, path) {
            assert!(plan.points.len() <= 10_000);
            let _ = plan.launches();
        }
    }
});
