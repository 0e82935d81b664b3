//! The README's library usage, runnable: `cargo run --release -p infoprune --example quickstart`.
//!
//! Generates a small synthetic dataset, keeps 10% with InfoMax, and compares with a random subset.

use infoprune::core::select::{SelectConfig, Selector};
use infoprune::core::Method;
use infoprune::demo;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = demo::generate(5_000, 32, 20, 0);
    let selector = Selector::new(SelectConfig::new(500))?;
    let selection = selector.run(data.embeddings.view(), Some(&data.scores), None)?;
    println!(
        "infomax kept {} samples, f(S) = {:.3}, α = {:.4}, {} duplicate pairs kept",
        selection.indices.len(),
        selection.objective,
        selection.alpha,
        data.duplicates_kept(&selection.indices)
    );

    let random = Selector::new(SelectConfig::new(500).method(Method::Random).seed(1))?.run(
        data.embeddings.view(),
        Some(&data.scores),
        None,
    )?;
    println!(
        "random  kept {} samples, f(S) = {:.3}, {} duplicate pairs kept",
        random.indices.len(),
        random.objective,
        data.duplicates_kept(&random.indices)
    );
    Ok(())
}
