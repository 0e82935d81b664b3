//! The `infoprune` binary: parse, run, map errors to exit codes (0 ok, 2 bad input, 1 internal).

use clap::Parser;
use infoprune::cli::{self, Cli, Command};

fn main() {
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Select(args) => cli::select(args),
        Command::Graph(args) => infoprune::graph_command::graph(args),
        Command::Evaluate(args) => infoprune::graph_command::evaluate(args),
        Command::Score(args) => infoprune::score_command::score(args),
        Command::Tokens(args) => infoprune::tokens_command::tokens(args),
        Command::Demo(args) => cli::demo(args),
    };
    if let Err(e) = outcome {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
