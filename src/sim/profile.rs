//! Engine profiles of the simulator: the costs of a model on a GPU under a vLLM-like
//! engine, from published figures. Times are for TP 1; tensor parallelism divides compute
//! by `tp × tp_efficiency^log2(tp)` and adds a communication cost per step.

use serde::{Deserialize, Serialize};

/// What one simulated engine costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub name: &'static str,
    /// What it approximates, and from which figures.
    pub about: &'static str,
    /// Prefill compute per prompt token, ms.
    pub prefill_ms_per_token: f64,
    /// Fixed cost of a step that decodes (reading the weights once), ms.
    pub decode_step_ms: f64,
    /// Extra decode cost per sequence in the batch, ms.
    pub decode_ms_per_seq: f64,
    /// Attention cost per token of context, summed over the batch, µs.
    pub decode_us_per_context_token: f64,
    /// Most sequences in one batch.
    pub max_num_seqs: usize,
    /// KV-cache capacity at TP 1 under vLLM's default `gpu_memory_utilization` 0.9, tokens.
    pub kv_capacity_tokens: u64,
    /// Memory of one GPU, GiB.
    pub gpu_memory_gib: f64,
    /// Memory the engine needs before its KV cache at TP 1 (weights, activations, CUDA
    /// graphs), GiB; TP splits it over the GPUs.
    pub static_memory_gib: f64,
    /// Scaling efficiency per doubling of TP (0.9: TP 2 is 1.8× faster in compute).
    pub tp_efficiency: f64,
    /// All-reduce cost per step when TP > 1, ms.
    pub tp_comm_ms_per_step: f64,
    /// Longest prompt + output, tokens.
    pub max_model_len: u32,
    /// Model name served.
    pub model: &'static str,
}

/// The built-in profiles.
pub const PROFILES: [Profile; 3] = [
    Profile {
        name: "h100-llama3-8b",
        about: "Llama-3.1-8B-Instruct BF16 on one H100 80GB under vLLM: about 28k prompt \
                tokens/s of prefill (16 GFLOP per token at about 45% of the 989 dense BF16 \
                TFLOP/s), about 150 tokens/s for a single stream (6.5 ms steps), KV cache \
                for about 450k tokens (56 GB at 128 KiB per token: 72 GiB of the 80 at \
                the default utilization 0.9, less 15 GiB of weights and about 5 of \
                activations and CUDA graphs)",
        prefill_ms_per_token: 0.036,
        decode_step_ms: 6.5,
        decode_ms_per_seq: 0.06,
        decode_us_per_context_token: 0.01,
        max_num_seqs: 256,
        kv_capacity_tokens: 450_000,
        gpu_memory_gib: 80.0,
        static_memory_gib: 19.8,
        tp_efficiency: 0.9,
        tp_comm_ms_per_step: 0.4,
        max_model_len: 32_768,
        model: "meta-llama/Llama-3.1-8B-Instruct",
    },
    Profile {
        name: "l4-llama3-8b",
        about: "Llama-3.1-8B-Instruct BF16 on one L4 24GB under vLLM: about 2.5k prompt \
                tokens/s, about 35 tokens/s for a single stream (28 ms steps; 300 GB/s of \
                memory bandwidth for 16 GB of weights), KV cache for about 40k tokens (5 GB: 21.6 GiB at utilization 0.9, less \
                15 GiB of weights and about 2 of activations)",
        prefill_ms_per_token: 0.4,
        decode_step_ms: 28.0,
        decode_ms_per_seq: 0.2,
        decode_us_per_context_token: 0.05,
        max_num_seqs: 128,
        kv_capacity_tokens: 40_000,
        gpu_memory_gib: 24.0,
        static_memory_gib: 16.9,
        tp_efficiency: 0.85,
        tp_comm_ms_per_step: 1.0,
        max_model_len: 16_384,
        model: "meta-llama/Llama-3.1-8B-Instruct",
    },
    Profile {
        name: "fixed-20ms",
        about: "A test profile: every decode step takes 20 ms and prefill 0.1 ms per \
                prompt token, whatever the batch, so that measurements can be checked \
                against exact figures",
        prefill_ms_per_token: 0.1,
        decode_step_ms: 20.0,
        decode_ms_per_seq: 0.0,
        decode_us_per_context_token: 0.0,
        max_num_seqs: 256,
        kv_capacity_tokens: 1_000_000,
        gpu_memory_gib: 80.0,
        static_memory_gib: 0.0,
        tp_efficiency: 1.0,
        tp_comm_ms_per_step: 0.0,
        max_model_len: 32_768,
        model: "sim-fixed-20ms",
    },
];

/// A profile name that is not one of [`PROFILES`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unknown simulator profile `{name}`; expected one of {}", known())]
pub struct UnknownProfile {
    pub name: String,
}

fn known() -> String {
    let names: Vec<&str> = PROFILES.iter().map(|p| p.name).collect();
    names.join(", ")
}

/// The profile called `name`.
pub fn profile(name: &str) -> Result<&'static Profile, UnknownProfile> {
    PROFILES
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| UnknownProfile {
            name: name.to_owned(),
        })
}
