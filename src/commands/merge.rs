//! `llm-loadtest merge SHARD.json... -o RESULT.json`: the results of a run's shards
//! merged into one (see the library's `merge`); any shard missing, failed, or of another
//! plan fails the merge with one line (exit 2) and writes nothing.

use llm_loadtest::atomic;
use llm_loadtest::compare::baseline::read_result;
use llm_loadtest::merge::{merge, ShardFile};

use super::{check_distinct, sayln, Outcome};
use crate::cli::MergeArgs;

pub fn execute(args: &MergeArgs) -> anyhow::Result<Outcome> {
    let inputs: Vec<(&str, &std::path::Path)> = args
        .shards
        .iter()
        .map(|p| ("a shard", p.as_path()))
        .collect();
    check_distinct(&inputs, &[("--output", args.output.as_path())])?;
    let shards = args
        .shards
        .iter()
        .map(|path| {
            Ok(ShardFile {
                path: path.clone(),
                result: read_result(path)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let merged = merge(shards)?;
    atomic::write_json(&args.output, &merged)?;
    let requests: u64 = merged.points.iter().map(|p| p.requests.total).sum();
    sayln!(
        "merged {} shards ({} points, {requests} requests): {}",
        merged.shards.len(),
        merged.points.len(),
        args.output.display()
    );
    for shard in &merged.shards {
        let late = shard.late_ms.map_or(String::new(), |ms| {
            format!(", {ms:.0} ms after its barrier")
        });
        sayln!(
            "  shard {} on {}: started {:.0} ms after the first{late}",
            shard.index,
            shard.host,
            shard.start_skew_ms
        );
    }
    Ok(Outcome::Success)
}
