//! `infoprune plan` and `infoprune merge`: a run split into independent jobs for a batch
//! scheduler (a Slurm array, a Kubernetes Job). `plan` writes which rows form which problem and
//! how many each keeps; `select --plan plan.json --part I` solves problem I alone; `merge` puts
//! the parts' outcomes together into exactly the indices and report one `select` would write.
//! All three take `select`'s options, the same on every job, so each reads the same inputs.

use crate::commands::select::{self, Mode, SelectArgs};
use crate::error::{Error, Result};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `infoprune merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The options the plan was made with (`--plan plan.json` included).
    #[command(flatten)]
    pub select: SelectArgs,
    /// The parts' outcomes written by `select --plan plan.json --part I --out PART.json`.
    #[arg(value_name = "PART.json", required = true)]
    pub parts: Vec<PathBuf>,
}

/// `infoprune plan`: the plan `select` would run with these options, as JSON to `--out`.
pub fn plan(args: &SelectArgs) -> Result<()> {
    if args.dry_run || args.plan.is_some() || args.part.is_some() {
        return Err(Error::Usage(
            "infoprune plan writes a plan: --dry-run, --plan and --part belong to select".into(),
        ));
    }
    select::run(args, Mode::WritePlan)
}

/// `infoprune merge`: the parts of a plan put together into `--out` (the kept indices) and
/// `--report`, as `select` writes them.
pub fn merge(args: &MergeArgs) -> Result<()> {
    let s = &args.select;
    let Some(plan) = s.plan.as_deref() else {
        return Err(Error::Usage(
            "infoprune merge needs --plan plan.json, the plan the parts were solved from".into(),
        ));
    };
    if s.dry_run || s.part.is_some() {
        return Err(Error::Usage(
            "infoprune merge puts every part together: --dry-run and --part belong to select"
                .into(),
        ));
    }
    select::run(
        s,
        Mode::Merge {
            plan,
            parts: &args.parts,
        },
    )
}
