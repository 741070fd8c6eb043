//! `/v1/chat/completions`: the prompt is one user message.

use serde::Serialize;

use super::adapter::{body, Adapter, GenerationParams};

pub struct ChatAdapter;

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
struct ChatInput<'a> {
    messages: [Message<'a>; 1],
}

impl Adapter for ChatAdapter {
    fn path(&self) -> &'static str {
        "v1/chat/completions"
    }

    fn body(&self, params: &GenerationParams, prompt: &str) -> Vec<u8> {
        let messages = [Message {
            role: "user",
            content: prompt,
        }];
        body(params, ChatInput { messages })
    }
}
