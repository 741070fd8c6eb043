//! How much of each GPU is left for the KV cache, as vLLM sizes it: the share
//! `gpu_memory_utilization` of the GPU's memory, less what the engine needs first (weights
//! and activations, split over the TP group). The profile's KV capacity is that share at
//! the default utilization 0.9 on one GPU; other settings scale it, and a setting that
//! leaves nothing for the cache fails to start, as vLLM does ("No available memory for
//! the cache blocks").

use super::Profile;

/// vLLM's default `gpu_memory_utilization`.
pub const DEFAULT_UTILIZATION: f64 = 0.9;

/// A configuration whose KV cache does not fit beside the engine.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "out of memory: gpu_memory_utilization {utilization} gives the engine {granted:.1} GiB of \
     each {total:.0} GiB GPU, less than the {needed:.1} GiB its weights and activations need \
     at TP {tp}: no memory is left for the cache blocks"
)]
pub struct OutOfMemory {
    pub utilization: f64,
    pub granted: f64,
    pub total: f64,
    pub needed: f64,
    pub tp: u32,
}

/// The KV-cache capacity of one GPU of a TP group of `tp`, in tokens.
pub fn kv_tokens_per_gpu(profile: &Profile, utilization: f64, tp: u32) -> Result<u64, OutOfMemory> {
    let free = |utilization: f64, tp: u32| {
        utilization * profile.gpu_memory_gib - profile.static_memory_gib / f64::from(tp.max(1))
    };
    let left = free(utilization, tp);
    if left <= 0.0 {
        return Err(OutOfMemory {
            utilization,
            granted: utilization * profile.gpu_memory_gib,
            total: profile.gpu_memory_gib,
            needed: profile.static_memory_gib / f64::from(tp.max(1)),
            tp,
        });
    }
    let reference = free(DEFAULT_UTILIZATION, 1);
    Ok((profile.kv_capacity_tokens as f64 * left / reference).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::profile;

    #[test]
    fn the_default_utilization_gives_the_profile_capacity_and_tp_frees_memory() {
        let h100 = profile("h100-llama3-8b").unwrap();
        assert_eq!(kv_tokens_per_gpu(h100, 0.9, 1), Ok(450_000));
        // Half the weights per GPU leave about 19% more room for the cache on each.
        let tp2 = kv_tokens_per_gpu(h100, 0.9, 2).unwrap();
        assert!((530_000..540_000).contains(&tp2), "{tp2}");
        let lower = kv_tokens_per_gpu(h100, 0.5, 1).unwrap();
        assert!((170_000..180_000).contains(&lower), "{lower}");
    }

    #[test]
    fn too_little_memory_for_the_weights_is_out_of_memory() {
        let h100 = profile("h100-llama3-8b").unwrap();
        let e = kv_tokens_per_gpu(h100, 0.2, 1).unwrap_err();
        assert!(e.to_string().starts_with("out of memory: gpu_memory_utilization 0.2 gives the engine 16.0 GiB of each 80 GiB GPU, less than the 19.8 GiB"), "{e}");
        // Split over two GPUs, the same share is enough.
        assert!(kv_tokens_per_gpu(h100, 0.2, 2).is_ok());
    }
}
