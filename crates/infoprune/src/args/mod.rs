//! What the commands share of their arguments: the choices of the options (`--method`,
//! `--symmetrize`, ...), the graph-search options, the parsers of option values, and the reading
//! of per-sample inputs and checking of output paths.

mod choices;
mod files;
mod knn;
mod values;

pub use choices::{
    MethodArg, NormalizeArg, PartitionArg, ScoreKindArg, ScoresHighArg, SemDedupKeepArg,
    SimTermArg, SolverArg, SymmetrizeArg, TypicalityArg,
};
pub(crate) use files::{check_outputs, overwrite, read_labels, read_vector, scores_from_logits};
pub(crate) use knn::knn_config;
pub use knn::{KnnArg, KnnArgs};
pub use values::resolve_budget;
pub(crate) use values::{at_least_one, auto_or_number};
