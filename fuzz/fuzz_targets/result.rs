//! Result and baseline files: any text is read without panicking or allocating what it
//! claims, and a result the reader accepts can be compared with itself.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use llm_loadtest::compare::{baseline::parse_result, compare};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(result) = parse_result(text, Path::new("fuzz.json")) {
        let _ = compare(&result, &result, 0);
    }
});
