//! `/v1/chat/completions`: a text prompt is one user message; a chat is sent as it is.

use serde::Serialize;

use super::adapter::{body, Adapter, GenerationParams, Prompt};

pub struct ChatAdapter;

#[derive(Serialize)]
struct Message<'a> {
    role: &'a str,
    content: &'a str,
}

#[derive(Serialize)]
struct ChatInput<'a> {
    messages: Vec<Message<'a>>,
}

impl Adapter for ChatAdapter {
    fn path(&self) -> &'static str {
        "v1/chat/completions"
    }

    fn body(&self, params: &GenerationParams, prompt: &Prompt) -> Vec<u8> {
        let messages = match prompt {
            Prompt::Text(text) => vec![Message {
                role: "user",
                content: text,
            }],
            Prompt::Messages(messages) => messages
                .iter()
                .map(|m| Message {
                    role: &m.role,
                    content: &m.content,
                })
                .collect(),
        };
        body(params, ChatInput { messages })
    }
}
