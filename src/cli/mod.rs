//! Command-line interface (clap derive), part of the binary: the library knows no flag.
//! `run` takes a scenario file or the ad-hoc flags of the seed CLI (`--server --model
//! --concurrency 1,10,50 --num-prompts ...`); the flags map to the library's
//! [`AdhocRun`], whose scenario is validated and planned like a file's. Flag values that
//! name library enums (`--adapter`, `--tokenizer`, `--arrival`, `--fail-on`, `--preset`,
//! `--format`) have their spelling here and map one to one.

mod recommend;

use std::path::PathBuf;
use std::time::SystemTime;

use clap::{Args, Parser, Subcommand, ValueEnum};

use llm_loadtest::compare::baseline::{DEFAULT_BASELINES, DEFAULT_KEEP, DEFAULT_RESULTS};
use llm_loadtest::compare::verdict::FailOn;
use llm_loadtest::report::output::Format;
use llm_loadtest::scenario::{Api, Arrival, Preset, Shard, Slo, TokenizerChoice, MAX_TRIALS};
use llm_loadtest::secret::Secret;

pub use recommend::RecommendArgs;

/// A flag's value enum (clap's spelling and help) that maps one to one onto the library
/// enum `$target` of the same variant names, which knows nothing of clap.
macro_rules! value_enum {
    ($(#[$doc:meta])* $name:ident => $target:ident {
        $($(#[$attr:meta])* $variant:ident,)+
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
        pub enum $name {
            $($(#[$attr])* $variant,)+
        }

        impl From<$name> for $target {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => $target::$variant,)+
                }
            }
        }
    };
}

#[derive(Debug, Parser)]
#[command(
    name = "llm-loadtest",
    version,
    about = "Load tests and performance regression checks for OpenAI-compatible LLM servers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log lines on standard error as text, or as one JSON object per line (with the
    /// command and a request id); `LLM_LOADTEST_LOG` sets the level
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a benchmark from a scenario file or from flags
    Run(Box<RunArgs>),
    /// Print the JSON Schema of scenario files
    Schema,
    /// Check scenario files without running them
    Validate {
        /// Scenario files
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Manage the baselines that runs are compared with
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Compare results with their baselines; exit 1 on a regression
    Compare(CompareArgs),
    /// Render a result (and its comparison with a baseline) as Markdown, HTML, CSV or JSON
    Report(ReportArgs),
    /// Show how each key figure moved over past runs (results, baselines' histories,
    /// directories of them), marking the runs where it changed beyond its noise
    History(HistoryArgs),
    /// Find the load one replica sustains within an SLO, and the replicas and GPUs a
    /// peak needs (few probes: doubling, then bisection)
    Recommend(Box<RecommendArgs>),
    /// Show the version and this machine's environment (host, GPUs)
    Info,
    /// Merge the results of the shards of one run (`run --shard I/N`) into one result:
    /// histograms, counts and errors exactly, throughput over the common window
    Merge(MergeArgs),
    /// Serve the simulated server (every dialect) until interrupted
    Sim(SimArgs),
    /// Serve the dashboard and REST API over a results directory: history, run reports,
    /// comparisons, trends, and runs started from the browser with live progress
    Serve(ServeArgs),
    /// Show the GPUs: memory, utilisation, temperature, power (NVML)
    Gpu {
        /// Refresh every SECONDS until interrupted
        #[arg(long, value_name = "SECONDS")]
        watch: Option<f64>,
    },
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' result files, one per shard
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Write the merged result here
    #[arg(short = 'o', long, required = true)]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The results directory: the history, and where runs started here write
    #[arg(long, default_value = DEFAULT_RESULTS)]
    pub results: PathBuf,
    /// The scenario files a run may name
    #[arg(long, default_value = "scenarios")]
    pub scenarios: PathBuf,
    /// Port (0: any free port, printed)
    #[arg(long, default_value_t = 8085, env = "PORT")]
    pub port: u16,
    /// Address to listen on; anything but a loopback address needs API_KEY set
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Reads need the key too (API_KEY), not only starting and deleting runs
    #[arg(long)]
    pub auth_reads: bool,
    /// Runs measured at once; the others wait in the queue
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub max_runs: u16,
    /// A `Host` the dashboard answers to (`dash.example:8085`; repeat for more) [default:
    /// on a loopback address, its loopback names and port; elsewhere, any]
    #[arg(long, value_name = "HOST:PORT")]
    pub allowed_host: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Port on 127.0.0.1 (0: any free port, printed)
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Engine profile: h100-llama3-8b, l4-llama3-8b or fixed-20ms
    #[arg(long, default_value = "h100-llama3-8b")]
    pub profile: String,
    /// Chunked prefill on or off
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub chunked_prefill: bool,
    /// Token budget per step [default: 2048 with chunked prefill, else the context length]
    #[arg(long)]
    pub max_num_batched_tokens: Option<u32>,
    /// Tensor-parallel degree
    #[arg(long, default_value_t = 1)]
    pub tp: u32,
    /// Fraction of requests answered with HTTP 500
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// Fraction of streams paused for --stall-ms after the first token
    #[arg(long, default_value_t = 0.0)]
    pub stall_rate: f64,
    #[arg(long, default_value_t = 0)]
    pub stall_ms: u64,
    /// Fraction of streams cut after the first token
    #[arg(long, default_value_t = 0.0)]
    pub disconnect_rate: f64,
    /// Fraction of streams with a malformed chunk
    #[arg(long, default_value_t = 0.0)]
    pub malformed_rate: f64,
    /// Run-to-run drift: standard deviation of a speed factor drawn at start, percent
    #[arg(long, default_value_t = 0.0, value_parser = percent)]
    pub drift_pct: f64,
    /// Per-step jitter: standard deviation of a factor drawn every step, percent
    #[arg(long, default_value_t = 0.0, value_parser = percent)]
    pub jitter_pct: f64,
    /// A known slowdown: every step takes this much longer, percent
    #[arg(long, default_value_t = 0.0, value_parser = percent)]
    pub slowdown_pct: f64,
    /// Emitter mode: no engine model; a text chunk every MS milliseconds (0: each response
    /// whole, as fast as the socket takes it), send times recorded and served at /truth
    #[arg(long, value_name = "MS", conflicts_with_all = ["profile", "chunked_prefill", "max_num_batched_tokens", "tp", "error_rate", "stall_rate", "disconnect_rate", "malformed_rate", "drift_pct", "jitter_pct", "slowdown_pct"])]
    pub emit_interval_ms: Option<f64>,
    /// Emitter mode: from a request's arrival to its first text chunk
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 50.0,
        requires = "emit_interval_ms"
    )]
    pub emit_first_token_ms: f64,
    /// Emitter mode: tokens per text chunk
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..), requires = "emit_interval_ms")]
    pub emit_tokens_per_chunk: u32,
}

value_enum! {
    /// Output formats of `report`.
    ReportFormat => Format {
        /// Markdown for a pull-request comment or job summary
        #[value(name = "md")]
        Markdown,
        /// Self-contained HTML with charts
        Html,
        /// One row per point with every summary figure
        Csv,
        /// One row per point and window of its timeline (the point over time)
        #[value(name = "timeline-csv")]
        TimelineCsv,
        /// The data the templates see
        Json,
        /// An Excel workbook: a summary sheet, the points, a sheet per table (needs --out)
        Xlsx,
    }
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Result file written by `run --output`; several (up to 8) are shown side by side
    #[arg(required = true)]
    pub results: Vec<PathBuf>,
    /// Baseline result to compare with (one result only)
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Seed of the bootstrap resampling
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Result files, baselines (each accepted run of their history) and directories
    /// searched for *.json (such as reports/results/history and baselines)
    #[arg(required = true)]
    pub sources: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Where and how `report` and `history` write what they render.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format [default: from the --out extension, else md]
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,
    /// Output file [default: standard output]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Directory with report.md.tera and/or report.html.tera replacing the built-in ones
    #[arg(long)]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Result files written by `run --output`; without them, every scenario in
    /// `scenarios/` whose target answers is run first (results in reports/results/)
    pub results: Vec<PathBuf>,
    /// Baseline directory (one `<scenario>.json` per scenario)
    #[arg(long, default_value = DEFAULT_BASELINES)]
    pub baselines: PathBuf,
    /// Which verdicts fail the check
    #[arg(long, value_enum, default_value = "regression")]
    pub fail_on: FailOnArg,
    /// Also fail when a baseline was measured with another server version or model
    #[arg(long)]
    pub strict: bool,
    /// Fail when a scenario has no baseline, or a point is not in its baseline (by
    /// default such runs are reported as new and pass)
    #[arg(long)]
    pub require_baseline: bool,
    /// Seed of the bootstrap resampling
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Measure each inconclusive point up to N more times (one trial at a time, deciding
    /// again after each) when its scenario's target answers here; the trials join the
    /// result file
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub retry: u32,
    /// Also write JUnit XML here (one test case per point and metric)
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Where compare.md (pull-request comment) and compare.html go
    #[arg(long, default_value = "reports")]
    pub reports: PathBuf,
    /// Directory with report.md.tera and/or report.html.tera replacing the built-in ones
    #[arg(long)]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Make complete results the baselines of their scenarios (DIR/<scenario>.json)
    Update {
        /// Result files written by `run --output` [default: reports/results/*.json, the
        /// results of the last `compare` without arguments]
        results: Vec<PathBuf>,
        /// Baseline directory
        #[arg(long, default_value = DEFAULT_BASELINES)]
        baselines: PathBuf,
        /// Accepted runs each baseline keeps in its history (newest first), from which the
        /// verdict learns the run-to-run noise
        #[arg(long, default_value_t = DEFAULT_KEEP, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1000))]
        keep: usize,
    },
}

/// The server under test, beside or instead of a scenario file.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Server base URL, e.g. http://127.0.0.1:8000 (overrides the scenario's target)
    #[arg(short = 's', long, required_unless_present = "scenario")]
    pub server: Option<String>,
    /// Model name (default: the first of /v1/models)
    #[arg(short = 'm', long)]
    pub model: Option<String>,
    /// API key [default: $LLM_LOADTEST_API_KEY, then $OPENAI_API_KEY]; prefer the
    /// environment, since arguments are visible to other users of the machine
    #[arg(long, value_parser = |key: &str| Ok::<_, String>(Secret::new(key)))]
    pub api_key: Option<Secret>,
}

impl TargetArgs {
    /// `scenario` with the server and model these flags give.
    pub fn apply(&self, scenario: &mut llm_loadtest::scenario::Scenario) {
        if let Some(server) = &self.server {
            scenario.target.base_url = server.clone();
        }
        if let Some(model) = &self.model {
            scenario.target.model = Some(model.clone());
        }
    }
}

/// `run`'s arguments; what the ad-hoc ones mean (`to_scenario`) is in `commands::run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file (JSON); without it, the flags below describe the run
    pub scenario: Option<PathBuf>,

    #[command(flatten)]
    pub target: TargetArgs,
    /// Measure each point N times, interleaved over the points (overrides the
    /// scenario's load.trials)
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_TRIALS)))]
    pub trials: Option<u32>,
    /// Write the result JSON here (atomically, after every point)
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Write one JSON line per measured request here
    #[arg(long)]
    pub requests_out: Option<PathBuf>,
    #[command(flatten)]
    pub sharding: ShardArgs,

    #[command(flatten)]
    pub adhoc: AdhocArgs,
}

/// Running one share of a plan that several processes run together (then `merge`).
#[derive(Debug, Args)]
pub struct ShardArgs {
    /// Run shard INDEX of COUNT (from 0): its part of each point's concurrency, requests
    /// and arrivals (needs --seed or the scenario's seed)
    #[arg(long, value_name = "INDEX/COUNT", value_parser = clap::value_parser!(Shard))]
    pub shard: Option<Shard>,
    /// Start the first measured window at this wall-clock time (RFC 3339, e.g.
    /// 2026-12-01T12:00:00Z), on every shard alike
    #[arg(long, value_name = "TIME", value_parser = rfc3339)]
    pub start_at: Option<SystemTime>,
    /// Seconds from one measured window's start to the next one's, with --start-at
    /// [default: the points' duration_s + 10]
    #[arg(long, value_name = "SECONDS", requires = "start_at", value_parser = interval_seconds)]
    pub point_interval: Option<f64>,
}

/// Flags that describe the workload and load; they cannot be combined with a scenario file.
#[derive(Debug, Args)]
pub struct AdhocArgs {
    /// Test preset (explicit flags override its values)
    #[arg(long, value_enum, conflicts_with = "scenario")]
    pub preset: Option<PresetArg>,
    /// Closed-loop concurrency levels, comma-separated [default: 1]
    #[arg(short = 'c', long, value_delimiter = ',', value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "scenario")]
    pub concurrency: Option<Vec<u32>>,
    /// Open-loop request rates per second, comma-separated (instead of --concurrency)
    #[arg(long, value_delimiter = ',', value_parser = positive_f64, conflicts_with_all = ["scenario", "concurrency"])]
    pub request_rate: Option<Vec<f64>>,
    /// Open-loop arrival distribution
    #[arg(
        long,
        value_enum,
        requires = "request_rate",
        conflicts_with = "scenario"
    )]
    pub arrival: Option<ArrivalArg>,
    /// Gamma shape for --arrival gamma (1 = Poisson, < 1 burstier)
    #[arg(long, value_parser = positive_f64, requires = "request_rate", conflicts_with = "scenario")]
    pub burstiness: Option<f64>,
    /// Measured requests per point [default: 100]
    #[arg(short = 'n', long, value_parser = clap::value_parser!(u32).range(1..), conflicts_with_all = ["scenario", "duration"])]
    pub num_prompts: Option<u32>,
    /// Seconds per point instead of a request count
    #[arg(short = 'd', long, value_parser = positive_f64, conflicts_with = "scenario")]
    pub duration: Option<f64>,
    /// Prompt length in tokens [default: 256]
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "scenario")]
    pub input_len: Option<u32>,
    /// Output length in tokens (max_tokens) [default: 128]
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "scenario")]
    pub output_len: Option<u32>,
    /// Stream responses (the default)
    #[arg(long, overrides_with = "no_stream", conflicts_with = "scenario")]
    pub stream: bool,
    /// Do not stream (only E2E is then measured; TTFT equals E2E)
    #[arg(long, conflicts_with = "scenario")]
    pub no_stream: bool,
    /// Let the server stop at end-of-sequence (by default ignore_eos asks for exact lengths)
    #[arg(long, conflicts_with = "scenario")]
    pub allow_eos: bool,
    /// Warmup requests per point, not measured
    #[arg(long, default_value_t = 3, conflicts_with = "scenario")]
    pub warmup: u32,
    /// Per-request timeout in seconds
    #[arg(long, default_value_t = 120.0, value_parser = positive_f64, conflicts_with = "scenario")]
    pub timeout: f64,
    /// API flavour
    #[arg(
        long,
        value_enum,
        default_value = "openai-chat",
        conflicts_with = "scenario"
    )]
    pub adapter: AdapterArg,
    /// Goodput SLO, e.g. ttft:500,tpot:50,e2e:5000 (milliseconds)
    #[arg(long, value_parser = parse_goodput, conflicts_with = "scenario")]
    pub goodput: Option<Slo>,
    /// Tokenizer for prompt lengths
    #[arg(long, value_enum, default_value = "auto", conflicts_with = "scenario")]
    pub tokenizer: TokenizerArg,
    /// Seed of the prompt and arrival generators [default: a new one per run, recorded in
    /// the result; a fixed seed replays prompts a server's prompt cache may remember]
    #[arg(long, conflicts_with = "scenario")]
    pub seed: Option<u64>,
}

pub(crate) fn positive_f64(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("expected a positive number, got `{text}`")),
    }
}

/// Seconds between barriers: positive, at most a week.
fn interval_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 604_800.0 => Ok(v),
        _ => Err(format!(
            "expected seconds above 0, at most 604800 (a week), got `{text}`"
        )),
    }
}

/// An RFC 3339 wall-clock time.
fn rfc3339(text: &str) -> Result<SystemTime, String> {
    humantime::parse_rfc3339_weak(text)
        .map_err(|e| format!("expected an RFC 3339 time such as 2026-12-01T12:00:00Z: {e}"))
}

/// A percentage from 0 to 1000.
fn percent(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..=1000.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "expected a percentage from 0 to 1000, got `{text}`"
        )),
    }
}

/// Parses `ttft:500,tpot:50,e2e:5000` (milliseconds; any subset).
pub fn parse_goodput(text: &str) -> Result<Slo, String> {
    text.parse()
        .map_err(|e: llm_loadtest::scenario::SloSyntaxError| e.to_string())
}

value_enum! {
    /// `--preset`.
    PresetArg => Preset {
        /// concurrency 1,5,10; 50 prompts; 128 in / 64 out
        Quick,
        /// concurrency 1,10,50,100; 200 prompts; 256 in / 128 out
        Standard,
        /// concurrency 10,50,100,200,500; 500 prompts; 512 in / 256 out
        Stress,
    }
}

value_enum! {
    /// `--adapter`: the server's dialect.
    AdapterArg => Api {
        /// OpenAI `/v1/chat/completions` (vLLM, SGLang, llama.cpp, TGI, Ollama, LMDeploy)
        #[value(name = "openai-chat", aliases = ["openai", "chat"])]
        Chat,
        /// OpenAI `/v1/completions`
        #[value(name = "openai-completions", alias = "completions")]
        Completions,
        /// OpenAI Responses API `/v1/responses` (vLLM)
        #[value(name = "openai-responses", alias = "responses")]
        Responses,
        /// Triton + TensorRT-LLM `/v2/models/{model}/generate_stream`
        #[value(name = "triton")]
        Triton,
        /// Text Generation Inference `/generate_stream`
        #[value(name = "tgi")]
        Tgi,
        /// Ollama `/api/chat` (NDJSON)
        #[value(name = "ollama-chat", alias = "ollama")]
        OllamaChat,
        /// Ollama `/api/generate` (NDJSON)
        #[value(name = "ollama-generate")]
        OllamaGenerate,
        /// SGLang native `/generate`
        #[value(name = "sglang")]
        Sglang,
        /// llama.cpp native `/completion`
        #[value(name = "llamacpp")]
        Llamacpp,
    }
}

value_enum! {
    /// `--tokenizer`: where token counts of prompts come from.
    TokenizerArg => TokenizerChoice {
        /// The server's `/tokenize` when it has one, else `cl100k_base`.
        Auto,
        /// The server's `/tokenize` (vLLM, SGLang, llama.cpp); an error when missing.
        Server,
        /// tiktoken `cl100k_base` (approximate for non-OpenAI models).
        #[value(name = "cl100k_base")]
        Cl100kBase,
        /// tiktoken `o200k_base` (approximate for non-OpenAI models).
        #[value(name = "o200k_base")]
        O200kBase,
    }
}

value_enum! {
    /// `--arrival`: the open-loop inter-arrival distribution.
    ArrivalArg => Arrival {
        /// Evenly spaced sends.
        Constant,
        /// Exponential inter-arrival times.
        Poisson,
        /// Gamma inter-arrival times with shape --burstiness.
        Gamma,
    }
}

value_enum! {
    /// `--fail-on`: which verdicts fail the check.
    FailOnArg => FailOn {
        /// A regression, a failed point or an SLO breach.
        Regression,
        /// Also a warning.
        Warning,
        /// Nothing: report only.
        Never,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_loadtest::scenario::Scenario;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("llm-loadtest").chain(args.iter().copied()))
    }

    fn scenario(args: &[&str]) -> Scenario {
        let mut all = vec!["run", "--server", "http://127.0.0.1:1"];
        all.extend_from_slice(args);
        match parse(&all).unwrap().command {
            Command::Run(r) => r.to_scenario(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn seed_defaults() {
        let s = scenario(&[]);
        assert_eq!(s.load.concurrency, Some(vec![1]));
        assert_eq!(s.load.requests, Some(100));
        assert_eq!(
            (
                s.workload.input_tokens[0].nominal(),
                s.workload.output_tokens.map(|o| o.nominal())
            ),
            (256, Some(128))
        );
        assert!(s.workload.stream);
        assert_eq!((s.load.warmup, s.load.timeout_s), (3, 120.0));
    }

    #[test]
    fn preset_values_yield_to_explicit_flags() {
        let s = scenario(&["--preset", "quick", "--input-len", "512"]);
        assert_eq!(s.load.concurrency, Some(vec![1, 5, 10]));
        assert_eq!(s.load.requests, Some(50));
        assert_eq!(
            (
                s.workload.input_tokens[0].nominal(),
                s.workload.output_tokens.map(|o| o.nominal())
            ),
            (512, Some(64))
        );
    }

    #[test]
    fn seed_flags_map_to_the_scenario() {
        let s = scenario(&[
            "--concurrency",
            "1,10,50",
            "--duration",
            "30",
            "--no-stream",
            "--adapter",
            "openai-completions",
            "--goodput",
            "ttft:500,tpot:50,e2e:5000",
        ]);
        assert_eq!(s.load.concurrency, Some(vec![1, 10, 50]));
        assert_eq!((s.load.requests, s.load.duration_s), (None, Some(30.0)));
        assert!(!s.workload.stream);
        assert_eq!(s.target.api, Api::Completions);
        assert_eq!(s.slo.unwrap().e2e_ms, Some(5000.0));
    }

    #[test]
    fn open_loop_flags() {
        let s = scenario(&[
            "--request-rate",
            "2,4",
            "--arrival",
            "gamma",
            "--burstiness",
            "0.5",
        ]);
        assert_eq!(
            (s.load.concurrency, s.load.rate),
            (None, Some(vec![2.0, 4.0]))
        );
        assert_eq!((s.load.arrival, s.load.burstiness), (Arrival::Gamma, 0.5));
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for args in [
            &["run", "--server", "u", "--concurrency", "0"][..],
            &["run", "--server", "u", "--goodput", "ttft=5"],
            &[
                "run",
                "--server",
                "u",
                "--num-prompts",
                "5",
                "--duration",
                "3",
            ],
            &["run", "--model", "m"],
            &["run", "s.json", "--concurrency", "2"],
        ] {
            let e = parse(args).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn goodput_parser() {
        let slo = parse_goodput("ttft:500, tpot:50").unwrap();
        assert_eq!(
            (slo.ttft_ms, slo.tpot_ms, slo.e2e_ms),
            (Some(500.0), Some(50.0), None)
        );
        assert!(parse_goodput("itl:5")
            .unwrap_err()
            .contains("unknown criterion"));
    }
}
