//! The `infoprune` command line: the commands and the module that runs each.

use crate::commands::demo::{self, DemoArgs};
use crate::commands::evaluate::{self, EvaluateArgs};
use crate::commands::graph::{self, GraphArgs};
use crate::commands::plan::{self, MergeArgs};
use crate::commands::score::{self, ScoreArgs};
use crate::commands::select::{self, SelectArgs};
use crate::commands::tokens::{self, TokensArgs};
use crate::error::Result;
use clap::{Parser, Subcommand};

/// Prune a training dataset to the subset that keeps the most information.
#[derive(Debug, Parser)]
#[command(name = "infoprune", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Select the samples to keep from embeddings (and optional importance scores), or from a
    /// given similarity (--graph K.npz).
    Select(Box<SelectArgs>),
    /// Write the plan `select` would run with these options (which rows form which problem, each
    /// budget, the batches, the memory estimate) as JSON, for `select --plan plan.json --part I`
    /// jobs and `infoprune merge`.
    #[command(mut_arg("out", |a| a
        .value_name("plan.json")
        .help("Output: the plan, JSON (the same options then go to every part and to merge)")))]
    Plan(Box<SelectArgs>),
    /// Put the parts of a plan solved by `select --plan plan.json --part I` together into the
    /// kept indices and report one `select` would write (same options, --plan included).
    #[command(mut_arg("out", |a| a
        .value_name("keep.npy")
        .help("Output: the kept indices, sorted, as an int64 .npy")))]
    Merge(Box<MergeArgs>),
    /// Build the kNN similarity `select` would build over all samples and save it as a SciPy .npz.
    Graph(Box<GraphArgs>),
    /// Score a subset under the InfoMax objective f(S) (and facility location) on a given graph.
    Evaluate(Box<EvaluateArgs>),
    /// Compute per-sample importance scores from training dynamics or from several models (SIM).
    Score(Box<ScoreArgs>),
    /// Keep the informative patches or tokens inside every sample (and extend captions).
    Tokens(Box<TokensArgs>),
    /// Run the whole pipeline on built-in synthetic data and compare the methods.
    Demo(DemoArgs),
}

impl Command {
    /// Runs the command.
    pub fn run(&self) -> Result<()> {
        match self {
            Command::Select(args) => select::select(args),
            Command::Plan(args) => plan::plan(args),
            Command::Merge(args) => plan::merge(args),
            Command::Graph(args) => graph::graph(args),
            Command::Evaluate(args) => evaluate::evaluate(args),
            Command::Score(args) => score::score(args),
            Command::Tokens(args) => tokens::tokens(args),
            Command::Demo(args) => demo::demo(args),
        }
    }
}
