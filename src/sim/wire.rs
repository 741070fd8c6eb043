//! The simulator's side of every dialect: the events of a streamed response (each token is
//! the text ` tok`), its end, a whole response and an error body, in the shapes of OpenAI
//! (chat, completions, Responses), Triton, TGI, Ollama (NDJSON), SGLang (cumulative text)
//! and llama.cpp's native API.

use serde_json::{json, Value};

use crate::dialect::Api;

/// The text of one generated token.
pub const TOKEN_TEXT: &str = " tok";

/// How long the simulated server spent on a request's prompt and on its decoding, for the
/// dialects that report it (Ollama, llama.cpp).
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerTimes {
    pub prompt_ms: f64,
    pub decode_ms: f64,
}

/// The responses to one request in one dialect.
pub struct Wire<'a> {
    pub api: Api,
    pub model: &'a str,
    pub prompt_tokens: u32,
}

fn sse(data: &Value) -> String {
    format!("data: {data}\n\n")
}

fn text(tokens: u32) -> String {
    TOKEN_TEXT.repeat(tokens as usize)
}

impl Wire<'_> {
    /// The content type of a streamed response.
    pub fn content_type(&self) -> &'static str {
        match self.api {
            Api::OllamaChat | Api::OllamaGenerate => "application/x-ndjson",
            _ => "text/event-stream",
        }
    }

    /// What a stream starts with before any token.
    pub fn start(&self) -> String {
        match self.api {
            Api::Responses => self.responses_event(
                "response.created",
                json!({"response": self.response("in_progress", 0, None)}),
            ),
            _ => String::new(),
        }
    }

    /// The event(s) carrying `count` new tokens, `generated` in all so far; `last` when
    /// they are the last the request asked for.
    pub fn tokens(&self, count: u32, generated: u32, last: bool) -> String {
        let model = self.model;
        let new = text(count);
        match self.api {
            Api::Chat => sse(
                &json!({"id": "sim", "object": "chat.completion.chunk", "created": 0, "model": model,
                    "choices": [{"index": 0, "delta": {"content": new}, "finish_reason": null}]}),
            ),
            Api::Completions => sse(
                &json!({"id": "sim", "object": "text_completion", "created": 0, "model": model,
                    "choices": [{"index": 0, "text": new, "finish_reason": null}]}),
            ),
            Api::Responses => self.responses_event(
                "response.output_text.delta",
                json!({"item_id": "msg_sim", "output_index": 0, "content_index": 0, "delta": new}),
            ),
            Api::Triton => {
                sse(&json!({"model_name": model, "model_version": "1", "text_output": new}))
            }
            Api::Tgi => (generated + 1 - count..=generated)
                .map(|n| self.tgi_token(n, last && n == generated))
                .collect(),
            Api::OllamaChat | Api::OllamaGenerate => {
                format!("{}\n", self.ollama_record(&new, false, None))
            }
            Api::Sglang => sse(&self.sglang(generated, false)),
            Api::Llamacpp => sse(
                &json!({"index": 0, "content": new, "tokens": vec![1; count as usize], "stop": false,
                    "id_slot": 0, "tokens_predicted": generated, "tokens_evaluated": self.prompt_tokens}),
            ),
        }
    }

    /// The end of a stream of `generated` tokens (of the `asked` the request asked for).
    pub fn end(&self, generated: u32, asked: u32, times: ServerTimes) -> String {
        let usage = self.usage(generated);
        match self.api {
            Api::Chat | Api::Completions => {
                let finish = match self.api {
                    Api::Chat => json!({"index": 0, "delta": {}, "finish_reason": "length"}),
                    _ => json!({"index": 0, "text": "", "finish_reason": "length"}),
                };
                sse(&json!({"id": "sim", "model": self.model, "choices": [finish]}))
                    + &sse(&json!({"id": "sim", "model": self.model, "choices": [], "usage": usage}))
                    + "data: [DONE]\n\n"
            }
            Api::Responses => self.responses_event(
                "response.completed",
                json!({"response": self.response("completed", generated, Some(&self.responses_usage(generated)))}),
            ),
            Api::Triton => String::new(),
            Api::Tgi if generated < asked => sse(&json!({"generated_text": text(generated),
                "details": self.tgi_details(generated)})),
            Api::Tgi => String::new(),
            Api::OllamaChat | Api::OllamaGenerate => {
                format!("{}\n", self.ollama_record("", true, Some((generated, times))))
            }
            Api::Sglang => sse(&self.sglang(generated, true)) + "data: [DONE]\n\n",
            Api::Llamacpp => sse(&self.llamacpp_final(generated, "", times)),
        }
    }

    /// A whole (not streamed) response of `generated` tokens.
    pub fn whole(&self, generated: u32, times: ServerTimes) -> Value {
        let all = text(generated);
        let model = self.model;
        match self.api {
            Api::Chat => json!({"id": "sim", "model": model, "usage": self.usage(generated),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": all}, "finish_reason": "length"}]}),
            Api::Completions => json!({"id": "sim", "model": model, "usage": self.usage(generated),
                "choices": [{"index": 0, "text": all, "finish_reason": "length"}]}),
            Api::Responses => self.response(
                "completed",
                generated,
                Some(&self.responses_usage(generated)),
            ),
            Api::Triton => json!({"model_name": model, "model_version": "1", "text_output": all}),
            Api::Tgi => {
                let prefill: Vec<Value> = (0..self.prompt_tokens)
                    .map(|i| json!({"id": i, "text": "w"}))
                    .collect();
                json!({"generated_text": all, "details": {"finish_reason": "length",
                    "generated_tokens": generated, "seed": null, "prefill": prefill, "tokens": []}})
            }
            Api::OllamaChat | Api::OllamaGenerate => {
                self.ollama_record(&all, true, Some((generated, times)))
            }
            Api::Sglang => self.sglang(generated, true),
            Api::Llamacpp => self.llamacpp_final(generated, &all, times),
        }
    }

    /// The body of an error answer in the dialect's shape.
    pub fn error_body(&self, status: u16, message: &str) -> Value {
        match self.api {
            Api::Chat | Api::Completions | Api::Responses => {
                json!({"object": "error", "message": message, "type": "BadRequestError", "code": status})
            }
            Api::Tgi => json!({"error": message, "error_type": "validation"}),
            Api::Triton | Api::OllamaChat | Api::OllamaGenerate => json!({"error": message}),
            Api::Sglang => json!({"error": {"message": message}}),
            Api::Llamacpp => {
                json!({"error": {"code": status, "message": message, "type": "server_error"}})
            }
        }
    }

    /// An event that is not valid JSON, in the dialect's framing.
    pub fn malformed(&self) -> &'static str {
        match self.api {
            Api::OllamaChat | Api::OllamaGenerate => "{\"message\": [\n",
            _ => "data: {\"choices\": [\n\n",
        }
    }

    fn usage(&self, generated: u32) -> Value {
        let total = u64::from(self.prompt_tokens) + u64::from(generated);
        json!({"prompt_tokens": self.prompt_tokens, "completion_tokens": generated, "total_tokens": total})
    }

    fn responses_usage(&self, generated: u32) -> Value {
        let total = u64::from(self.prompt_tokens) + u64::from(generated);
        json!({"input_tokens": self.prompt_tokens, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": generated, "total_tokens": total})
    }

    fn responses_event(&self, kind: &str, mut fields: Value) -> String {
        fields["type"] = kind.into();
        format!("event: {kind}\ndata: {fields}\n\n")
    }

    fn response(&self, status: &str, generated: u32, usage: Option<&Value>) -> Value {
        let output = if generated == 0 {
            json!([])
        } else {
            json!([{"id": "msg_sim", "type": "message", "role": "assistant", "status": status,
                "content": [{"type": "output_text", "text": text(generated), "annotations": []}]}])
        };
        json!({"id": "resp_sim", "object": "response", "status": status, "model": self.model,
            "output": output, "usage": usage})
    }

    fn tgi_details(&self, generated: u32) -> Value {
        json!({"finish_reason": "length", "generated_tokens": generated,
            "input_length": self.prompt_tokens, "seed": null})
    }

    fn tgi_token(&self, n: u32, last: bool) -> String {
        let token = json!({"id": n, "text": TOKEN_TEXT, "logprob": -0.1, "special": false});
        let (generated_text, details) = if last {
            (json!(text(n)), self.tgi_details(n))
        } else {
            (Value::Null, Value::Null)
        };
        sse(
            &json!({"index": n, "token": token, "generated_text": generated_text, "details": details}),
        )
    }

    fn ollama_record(&self, new: &str, done: bool, end: Option<(u32, ServerTimes)>) -> Value {
        let mut record =
            json!({"model": self.model, "created_at": "2026-01-01T00:00:00Z", "done": done});
        match self.api {
            Api::OllamaChat => record["message"] = json!({"role": "assistant", "content": new}),
            _ => record["response"] = new.into(),
        }
        if let Some((generated, times)) = end {
            let ns = |ms: f64| (ms * 1e6).round() as u64;
            record["done_reason"] = "length".into();
            record["prompt_eval_count"] = self.prompt_tokens.into();
            record["prompt_eval_duration"] = ns(times.prompt_ms).into();
            record["eval_count"] = generated.into();
            record["eval_duration"] = ns(times.decode_ms).into();
            record["total_duration"] = ns(times.prompt_ms + times.decode_ms).into();
        }
        record
    }

    fn sglang(&self, generated: u32, finished: bool) -> Value {
        let finish = finished.then(|| json!({"type": "length", "length": generated}));
        json!({"text": text(generated), "index": 0, "meta_info": {"id": "sim", "finish_reason": finish,
            "prompt_tokens": self.prompt_tokens, "completion_tokens": generated, "cached_tokens": 0}})
    }

    fn llamacpp_final(&self, generated: u32, content: &str, times: ServerTimes) -> Value {
        let per = |ms: f64, n: u32| if n == 0 { 0.0 } else { ms / f64::from(n) };
        let timings = json!({"cache_n": 0, "prompt_n": self.prompt_tokens, "prompt_ms": times.prompt_ms,
            "prompt_per_token_ms": per(times.prompt_ms, self.prompt_tokens),
            "predicted_n": generated, "predicted_ms": times.decode_ms,
            "predicted_per_token_ms": per(times.decode_ms, generated)});
        json!({"index": 0, "content": content, "tokens": [], "stop": true, "model": self.model,
            "tokens_predicted": generated, "tokens_evaluated": self.prompt_tokens,
            "stop_type": "limit", "timings": timings})
    }
}
