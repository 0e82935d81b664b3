//! `infoprune score`: importance scores from training dynamics, or SIM from several models.
//!
//! Every file it writes means "high = important (keep)", so it can be passed straight to
//! `select --scores` (or `--noise`, for `--kind aum`: minus AUM is high for likely mislabeled
//! samples); `--raw` writes the score's natural values instead.

use crate::args::{check_outputs, overwrite};
use crate::args::{ScoreKindArg, SimTermArg};
use crate::error::{Error, Result};
use crate::npy;
use clap::Args;
use infoprune_core::scores::{El2nEpochs, ScoreKind, ScoreOptions};
use infoprune_core::sim::{sim_scores, SimConfig, SimModel};
use ndarray::ArrayView2;
use std::path::PathBuf;

/// Arguments of `infoprune score`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Which training-dynamics score (with --logits).
    #[arg(
        long,
        value_enum,
        required_unless_present = "sim",
        conflicts_with = "sim"
    )]
    pub kind: Option<ScoreKindArg>,
    /// Logits saved during training, float32/float64: one T×n×C file, or one n×C file per
    /// epoch in epoch order (`--logits e0.npy e1.npy …`); float32 is read from the memory map.
    #[arg(long, value_name = "L.npy", num_args = 1.., required_unless_present = "sim")]
    pub logits: Vec<PathBuf>,
    /// Integer class labels of length n.
    #[arg(long, value_name = "y.npy")]
    pub labels: PathBuf,
    /// Compute SIM (separability · integrity · certainty) from one or more models instead.
    #[arg(long, requires_all = ["features", "probs"])]
    pub sim: bool,
    /// Features: with --sim one n×d file per model (comma-separated); with --kind grand the
    /// penultimate features.
    #[arg(long, value_name = "F.npy", value_delimiter = ',')]
    pub features: Vec<PathBuf>,
    /// Predicted probabilities n×C, one file per model (comma-separated), with --sim.
    #[arg(long, value_name = "P.npy", value_delimiter = ',')]
    pub probs: Vec<PathBuf>,
    /// With --sim: which term to write [default: sim].
    #[arg(long, value_enum)]
    pub term: Option<SimTermArg>,
    /// EL2N: mean over the first N epochs [default: 10].
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub el2n_epochs: Option<usize>,
    /// Epoch for entropy, least-confidence, margin, loss, grand, and a single-epoch EL2N (default:
    /// last; EL2N: the mean above).
    #[arg(long, allow_negative_numbers = true)]
    pub epoch: Option<usize>,
    /// Write the score's natural values instead of "high = important".
    #[arg(long)]
    pub raw: bool,
    /// Output: float32 .npy of length n.
    #[arg(long, value_name = "s.npy")]
    pub out: PathBuf,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
    /// No summary line.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Refuses every option that would have no effect with the others given.
pub(crate) fn refuse_ineffective(args: &ScoreArgs) -> Result<()> {
    let refuse =
        |flag: &str, why: String| Err(Error::Usage(format!("--{flag} has no effect here: {why}")));
    match args.kind.map(ScoreKind::from) {
        None => {
            if !args.logits.is_empty() {
                return refuse("logits", "--sim reads --features and --probs".into());
            }
            for (flag, given) in [
                ("el2n-epochs", args.el2n_epochs.is_some()),
                ("epoch", args.epoch.is_some()),
            ] {
                if given {
                    return refuse(flag, "it applies to --kind, not to --sim".into());
                }
            }
        }
        Some(kind) => {
            let name = kind.name();
            if args.term.is_some() {
                return refuse("term", "it selects a term of --sim".into());
            }
            if !args.probs.is_empty() {
                return refuse("probs", "it is read only with --sim".into());
            }
            if kind != ScoreKind::Grand && !args.features.is_empty() {
                return refuse(
                    "features",
                    format!("--kind {name} does not read features (only grand and --sim do)"),
                );
            }
            if args.el2n_epochs.is_some() && kind != ScoreKind::El2n {
                return refuse(
                    "el2n-epochs",
                    format!("it applies to --kind el2n, not {name}"),
                );
            }
            if args.el2n_epochs.is_some() && args.epoch.is_some() {
                return refuse(
                    "el2n-epochs",
                    "--epoch makes EL2N a single-epoch score".into(),
                );
            }
            if args.epoch.is_some() && matches!(kind, ScoreKind::Forgetting | ScoreKind::Aum) {
                return refuse("epoch", format!("--kind {name} uses every epoch"));
            }
            if args.raw && kind.high_is_important() {
                return refuse(
                    "raw",
                    format!("the natural values of --kind {name} already mean high = important"),
                );
            }
        }
    }
    Ok(())
}

/// The options of a `--kind` score.
pub(crate) fn score_options(args: &ScoreArgs, kind: ScoreKind) -> ScoreOptions {
    ScoreOptions {
        el2n: match (kind, args.epoch) {
            (ScoreKind::El2n, Some(t)) => El2nEpochs::Single(t),
            _ => match args.el2n_epochs {
                Some(m) => El2nEpochs::MeanOfFirst(m),
                None => El2nEpochs::default(),
            },
        },
        epoch: args.epoch,
        oriented: !args.raw,
    }
}

/// Runs `infoprune score`.
pub fn score(args: &ScoreArgs) -> Result<()> {
    refuse_ineffective(args)?;
    check_outputs(&[("out", args.out.as_path())], args.force)?;
    let labels = npy::read_i64_vector(&args.labels)?;
    let (name, values) = if args.sim {
        sim_term(args, &labels)?
    } else {
        let kind: ScoreKind = args
            .kind
            .expect("clap requires --kind without --sim")
            .into();
        let logits = &args.logits;
        let options = score_options(args, kind);
        let features = match args.features.as_slice() {
            [] => None,
            [one] => Some(one.as_path()),
            more => {
                return Err(Error::Usage(format!(
                    "--kind {} takes one --features file, found {}",
                    kind.name(),
                    more.len()
                )))
            }
        };
        let mut values =
            crate::args::scores_from_logits(&[kind], logits, &labels, features, &options)?;
        let values = values.pop().expect("one kind, one score");
        (kind.name().to_string(), values)
    };
    npy::write_f32_vector(&args.out, &values, overwrite(args.force))?;
    if !args.quiet {
        crate::errln!(
            "wrote {} {} scores ({}) → {}",
            values.len(),
            name,
            if args.raw { "raw" } else { "high = important" },
            args.out.display()
        )?;
    }
    Ok(())
}

/// SIM or one of its terms from `--features` and `--probs` (one of each per model).
fn sim_term(args: &ScoreArgs, labels: &[i64]) -> Result<(String, Vec<f32>)> {
    if args.features.len() != args.probs.len() {
        return Err(Error::Usage(format!(
            "--sim needs one --probs file per --features file: {} features, {} probs",
            args.features.len(),
            args.probs.len()
        )));
    }
    let features = args
        .features
        .iter()
        .map(|p| npy::read_f32_matrix(p))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let probs = args
        .probs
        .iter()
        .map(|p| npy::read_f32_matrix(p))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let named: Vec<(String, ArrayView2<f32>)> = args
        .probs
        .iter()
        .zip(&probs)
        .map(|(path, p)| (path.display().to_string(), p.view()))
        .collect();
    let features: Vec<ArrayView2<f32>> = features.iter().map(|f| f.view()).collect();
    sim_values(
        args,
        &args.labels.display().to_string(),
        labels,
        &features,
        &named,
    )
}

/// SIM or one of its terms from one features matrix and one `(name, probabilities)` per model;
/// `labels_name` and the probabilities' names say where they came from in errors.
pub(crate) fn sim_values<'a>(
    args: &ScoreArgs,
    labels_name: &str,
    labels: &[i64],
    features: &[ArrayView2<'a, f32>],
    probs: &[(String, ArrayView2<'a, f32>)],
) -> Result<(String, Vec<f32>)> {
    // Each label names a column of every probability matrix: one outside them would make the
    // scores of every sample silently meaningless.
    for (path, p) in probs {
        if let Some((i, &y)) = labels
            .iter()
            .enumerate()
            .find(|&(_, &y)| y < 0 || y >= p.ncols() as i64)
        {
            return Err(Error::Usage(format!(
                "labels {labels_name}: sample {i} has label {y}, but the probabilities {path} \
                 have {} class columns: expected labels in 0..{}",
                p.ncols(),
                p.ncols()
            )));
        }
    }
    let models: Vec<SimModel> = features
        .iter()
        .zip(probs)
        .map(|(f, (_, p))| SimModel {
            features: *f,
            probabilities: *p,
        })
        .collect();
    let terms = sim_scores(&models, labels, &SimConfig::default())?;
    let (name, raw) = match args.term.unwrap_or(SimTermArg::Sim) {
        SimTermArg::Sim => ("sim", terms.sim),
        SimTermArg::Separability => ("separability", terms.separability),
        SimTermArg::Integrity => ("integrity", terms.integrity),
        SimTermArg::Certainty => ("certainty", terms.certainty),
    };
    // Every SIM term is high for easy, clean, agreed-on samples: "important" is the opposite.
    let values = if args.raw {
        raw
    } else {
        raw.iter().map(|v| -v).collect()
    };
    Ok((name.to_string(), values))
}
