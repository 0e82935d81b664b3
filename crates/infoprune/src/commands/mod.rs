//! One module per `infoprune` command, each with its own arguments; what they share of their
//! arguments is in [`crate::args`].

pub mod demo;
pub mod evaluate;
pub mod graph;
pub mod plan;
pub mod score;
pub mod select;
pub mod tokens;
