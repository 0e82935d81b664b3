//! `infoprune tokens`: keep the informative patches or tokens inside every sample (SPEC §5), and
//! optionally extend each sample's caption with the classes detected in it.

use crate::args::{check_outputs, overwrite};
use crate::backend_choice::{open_backend, BackendArg};
use crate::error::{Error, Result};
use crate::npy;
use crate::npy_map::MappedMatrix;
use crate::outputs;
use crate::progress_bars::Bars;
use clap::{Args, ValueEnum};
use infoprune_core::fraction::Fraction;
use infoprune_core::importance::AlphaRule;
use infoprune_core::tokens::{GridPrior, TokenBudget, TokenConfig, TokenSelector, TokenSimilarity};
use infoprune_core::CoreError;
use std::path::PathBuf;
use std::time::Instant;

/// `--similarity` between a sample's tokens.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TokenSimilarityArg {
    /// Dense clipped cosine for T ≤ 1024, kNN above.
    Auto,
    /// Dense clipped cosine between every pair of tokens.
    Dense,
    /// The kNN graph with --neighbors.
    Knn,
}

/// Arguments of `infoprune tokens`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("token_budget").required(true).args(["keep", "count"])))]
#[command(group(clap::ArgGroup::new("token_alpha").args(["alpha", "beta"])))]
pub struct TokensArgs {
    /// Token features, float32/float64 .npy of shape n × T × d (C order; memory-mapped).
    #[arg(long, value_name = "X.npy")]
    pub features: PathBuf,
    /// Token saliency, .npy of shape n × T (high = keep).
    #[arg(long, value_name = "A.npy")]
    pub saliency: PathBuf,
    /// Fraction of each sample's tokens to keep, in (0, 1]: ⌈keep·T⌉ tokens, computed exactly
    /// from the decimal given.
    #[arg(long, value_name = "RATIO", allow_negative_numbers = true)]
    pub keep: Option<Fraction>,
    /// Tokens to keep per sample.
    #[arg(long, value_name = "C", allow_negative_numbers = true)]
    pub count: Option<usize>,
    /// Output: the keep mask, uint8 .npy of shape n × T.
    #[arg(long, value_name = "mask.npy")]
    pub out: PathBuf,
    /// Patch grid HxW (H·W = T): adds --grid-weight similarity between adjacent patches.
    #[arg(long, value_name = "HxW", allow_hyphen_values = true)]
    pub grid: Option<String>,
    /// Similarity added between adjacent patches with --grid [default: 0.1].
    #[arg(long, allow_negative_numbers = true)]
    pub grid_weight: Option<f32>,
    /// Similarity between a sample's tokens.
    #[arg(long, value_enum, default_value = "auto")]
    pub similarity: TokenSimilarityArg,
    /// Neighbours per token with --similarity knn, at least 1 [default: 10].
    #[arg(long, allow_negative_numbers = true, value_parser = crate::args::at_least_one)]
    pub neighbors: Option<usize>,
    /// Pairwise weight α, given directly.
    #[arg(long, allow_negative_numbers = true)]
    pub alpha: Option<f64>,
    /// α = β·mean(s)/((k/T)·mean degree), per sample (default β = 1).
    #[arg(long, allow_negative_numbers = true)]
    pub beta: Option<f64>,
    /// Maximum solver iterations.
    #[arg(long, default_value_t = 100, allow_negative_numbers = true)]
    pub iterations: usize,
    /// Compute backend.
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendArg,
    /// Captions, one per sample: JSONL (objects with "caption", or strings) or plain text lines.
    #[arg(long, value_name = "in.jsonl", requires_all = ["classes", "class_names", "captions_out"])]
    pub captions: Option<PathBuf>,
    /// Per-sample class probabilities, .npy n × C (with --captions).
    #[arg(long, value_name = "P.npy", requires = "captions")]
    pub classes: Option<PathBuf>,
    /// Class names, one per line (C lines; with --captions).
    #[arg(long, value_name = "names.txt", requires = "captions")]
    pub class_names: Option<PathBuf>,
    /// Classes with probability ≥ this are appended to the caption (with --captions)
    /// [default: 0.5].
    #[arg(long, allow_negative_numbers = true, requires = "captions")]
    pub threshold: Option<f32>,
    /// Caption template with {caption} and {classes} (with --captions) [default: "{caption}
    /// Contains: {classes}."].
    #[arg(long, allow_hyphen_values = true, requires = "captions")]
    pub template: Option<String>,
    /// Output: the extended captions as JSONL (with --captions).
    #[arg(long, value_name = "out.jsonl", requires = "captions")]
    pub captions_out: Option<PathBuf>,
    /// Output: a JSON report (sizes, tokens kept, mean f(S), backend, GPU counters, seconds).
    #[arg(long, value_name = "report.json")]
    pub report: Option<PathBuf>,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
    /// No progress bars and no summary line.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The JSON report `tokens --report` writes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokensReport {
    /// infoprune's version.
    pub version: &'static str,
    /// Samples.
    pub n: usize,
    /// Tokens per sample.
    pub tokens: usize,
    /// Features per token.
    pub dim: usize,
    /// Tokens kept in every sample.
    pub kept_per_sample: usize,
    /// Mean over samples of each sample's f(S).
    pub mean_objective: f64,
    /// Captions extended with detected classes (0 without --captions).
    pub captions_extended: usize,
    /// The backend that solved the samples.
    pub backend: String,
    /// What the run did on the GPU (`null` on the CPU).
    pub gpu: Option<crate::report::GpuCounters>,
    /// Seconds from the start to the outputs staged.
    pub seconds: f64,
}

/// Parses `HxW`.
fn parse_grid(text: &str, weight: f32) -> Result<GridPrior> {
    let parsed = text
        .split_once(['x', 'X'])
        .and_then(|(h, w)| Some((h.trim().parse().ok()?, w.trim().parse().ok()?)));
    match parsed {
        Some((height, width)) if height > 0 && width > 0 => Ok(GridPrior {
            height,
            width,
            weight,
        }),
        _ => Err(Error::Usage(format!(
            "--grid must look like 14x14, found '{text}'"
        ))),
    }
}

/// Refuses every option that would have no effect with the others given.
pub(crate) fn refuse_ineffective(args: &TokensArgs) -> Result<()> {
    if args.neighbors.is_some() && args.similarity != TokenSimilarityArg::Knn {
        return Err(Error::Usage(
            "--neighbors has no effect here: only --similarity knn uses it (auto picks its own \
             kNN size above 1024 tokens)"
                .into(),
        ));
    }
    if args.grid_weight.is_some() && args.grid.is_none() {
        return Err(Error::Usage(
            "--grid-weight has no effect here: it weighs the --grid prior, which is not given"
                .into(),
        ));
    }
    Ok(())
}

/// The token selection `args` ask for, for samples of `t` tokens.
pub(crate) fn token_config(args: &TokensArgs, t: usize) -> Result<TokenConfig> {
    let budget = match (&args.keep, args.count) {
        // ⌈ρ·T⌉ from the decimal as typed; the core checks the range and T ≥ 1.
        (Some(r), _) if r.value() > 0.0 && r.value() <= 1.0 && t > 0 => {
            TokenBudget::Count(r.ceil_times(t).clamp(1, t))
        }
        (Some(r), _) => TokenBudget::Ratio(r.value()),
        (None, Some(c)) => TokenBudget::Count(c),
        (None, None) => {
            return Err(Error::Usage(
                "give exactly one of --keep and --count".into(),
            ))
        }
    };
    let mut config = TokenConfig::new(budget);
    config.similarity = match args.similarity {
        TokenSimilarityArg::Auto => TokenSimilarity::Auto,
        TokenSimilarityArg::Dense => TokenSimilarity::Dense,
        TokenSimilarityArg::Knn => TokenSimilarity::Knn(args.neighbors.unwrap_or(10)),
    };
    config.alpha = match (args.alpha, args.beta) {
        (Some(a), _) => AlphaRule::Fixed(a),
        (None, Some(b)) => AlphaRule::Beta(b),
        (None, None) => AlphaRule::default(),
    };
    config.grid = args
        .grid
        .as_deref()
        .map(|g| parse_grid(g, args.grid_weight.unwrap_or(0.1)))
        .transpose()?;
    config.solver.iterations = args.iterations;
    Ok(config)
}

/// Runs `infoprune tokens`: every input (the captions' too) is read and checked first, then the
/// tokens are selected, then the mask and the captions are written together.
pub fn tokens(args: &TokensArgs) -> Result<()> {
    let started = Instant::now();
    refuse_ineffective(args)?;
    let mut paths = vec![("out", args.out.as_path())];
    paths.extend(args.captions_out.as_deref().map(|p| ("captions-out", p)));
    paths.extend(args.report.as_deref().map(|p| ("report", p)));
    check_outputs(&paths, args.force)?;
    let features = MappedMatrix::open_rows(&args.features)?;
    let (n, t, d) = match features.shape() {
        [n, t, d] => (*n, *t, *d),
        other => {
            return Err(Error::Usage(format!(
                "{}: token features must be 3-D (n × T × d), found shape {other:?}",
                args.features.display()
            )))
        }
    };
    let saliency = npy::read_f32_matrix(&args.saliency)?;
    let captions = match (
        &args.captions,
        &args.classes,
        &args.class_names,
        &args.captions_out,
    ) {
        (Some(captions), Some(classes), Some(names), Some(_)) => {
            let (jsonl, extended) = crate::captions::extended_captions(
                captions,
                classes,
                names,
                args.threshold.unwrap_or(0.5),
                args.template
                    .as_deref()
                    .unwrap_or(crate::captions::DEFAULT_TEMPLATE),
            )?;
            if jsonl.lines().count() != n {
                return Err(Error::Usage(format!(
                    "{} holds {} captions but the token features {} have n = {n} samples",
                    captions.display(),
                    jsonl.lines().count(),
                    args.features.display()
                )));
            }
            Some((jsonl, extended))
        }
        _ => None,
    };
    let config = token_config(args, t)?;
    let backend = open_backend(args.backend, args.quiet)?;
    let selector = TokenSelector::with_backend(config, backend.clone())?;
    selector.validate(n, t, d, saliency.view())?;
    let bars = Bars::new(args.quiet);
    let selection = selector.select_with(
        n,
        t,
        saliency.view(),
        |i| {
            let rows: Vec<usize> = (i * t..(i + 1) * t).collect();
            let tokens = features
                .gather(&rows)
                .map_err(|e| CoreError::InvalidParameter {
                    name: "features",
                    value: e.to_string(),
                    reason: "could not be read",
                })?;
            if let Some(flat) = tokens.iter().position(|v| !v.is_finite()) {
                return Err(CoreError::NonFinite {
                    what: "token features",
                    index: i * t * d + flat,
                    value: tokens.iter().nth(flat).copied().unwrap_or(f32::NAN) as f64,
                });
            }
            Ok(tokens)
        },
        &bars,
    );
    let selection = selection?;
    let mut staged = vec![outputs::stage(
        &args.out,
        &npy::u8_matrix_bytes(&args.out, selection.mask.view())?,
    )?];
    let mut extended = 0;
    if let (Some((jsonl, count)), Some(out)) = (&captions, &args.captions_out) {
        staged.push(outputs::stage(out, jsonl.as_bytes())?);
        extended = *count;
    }
    let mean_f = selection.objective.iter().sum::<f64>() / n as f64;
    if let Some(path) = &args.report {
        let report = TokensReport {
            version: env!("CARGO_PKG_VERSION"),
            n,
            tokens: t,
            dim: d,
            kept_per_sample: selection.kept_per_sample,
            mean_objective: mean_f,
            captions_extended: extended,
            backend: backend.name(),
            gpu: backend.counters().map(Into::into),
            seconds: started.elapsed().as_secs_f64(),
        };
        let json = serde_json::to_string_pretty(&report).expect("a report always serialises");
        staged.push(outputs::stage(path, json.as_bytes())?);
    }
    outputs::commit(staged, overwrite(args.force))?;
    if !args.quiet {
        crate::errln!(
            "kept {} of {t} tokens in each of {n} samples, mean f(S) = {mean_f:.4}, {extended} captions extended, {:.2} s → {}",
            selection.kept_per_sample,
            started.elapsed().as_secs_f64(),
            args.out.display()
        )?;
    }
    Ok(())
}
