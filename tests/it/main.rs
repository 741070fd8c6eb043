//! Integration tests: the `llm-loadtest` binary against wiremock mocks, a timed SSE
//! fixture server and, when `LLM_LOADTEST_REAL_SERVER` holds its URL, a real llama-server.

mod cli;
mod compare;
mod conclusions;
mod dashboard;
mod dialects;
mod faults;
mod fixture;
mod history;
mod real_server;
mod recommend;
mod reliability;
mod report;
mod secrets;
mod server_sweep;
mod shards;
mod sim;
mod stages;
mod timing;
mod tokenizer;
mod workloads;
