//! The CPU backend: the reference implementation, rayon-parallel over the problems of a batch.

use super::batch::ProblemBatch;
use super::contract::{validate_segments, validate_spmm, validate_top_k, Backend, BackendLimits};
use crate::csr::CsrSimilarity;
use crate::error::Result;
use crate::knn::{knn_graph, KnnConfig};
use crate::progress::{Progress, Silent};
use crate::projection::capped_simplex_projection;
use crate::solver::{rounding, SolveResult, SolverConfig};
use ndarray::ArrayView2;
use rayon::prelude::*;

/// The CPU reference backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuBackend;

impl Backend for CpuBackend {
    fn name(&self) -> String {
        format!("cpu ({} threads)", rayon::current_num_threads())
    }

    fn limits(&self) -> BackendLimits {
        BackendLimits::unlimited()
    }

    fn spmm(&self, graph: &CsrSimilarity, x: &[f32], nrhs: usize) -> Result<Vec<f32>> {
        validate_spmm(graph, x, nrhs)?;
        let n = graph.n();
        let mut y = vec![0.0f32; n * nrhs];
        if nrhs == 1 {
            graph.spmv(x, &mut y);
        } else {
            graph.spmm(x, nrhs, &mut y);
        }
        Ok(y)
    }

    fn project(&self, offsets: &[usize], v: &[f32], budgets: &[usize]) -> Result<Vec<f32>> {
        validate_segments(offsets, v.len(), budgets)?;
        crate::error::check_finite("v", v)?;
        let mut out = vec![0.0f32; v.len()];
        let mut chunks: Vec<&mut [f32]> = Vec::with_capacity(budgets.len());
        let mut rest = out.as_mut_slice();
        for p in 0..budgets.len() {
            let (head, tail) = rest.split_at_mut(offsets[p + 1] - offsets[p]);
            chunks.push(head);
            rest = tail;
        }
        chunks.into_par_iter().enumerate().for_each(|(p, chunk)| {
            capped_simplex_projection(&v[offsets[p]..offsets[p + 1]], budgets[p], chunk);
        });
        Ok(out)
    }

    fn top_k(
        &self,
        offsets: &[usize],
        x: &[f32],
        s: &[f32],
        budgets: &[usize],
    ) -> Result<Vec<Vec<usize>>> {
        validate_top_k(offsets, x, s, budgets)?;
        Ok((0..budgets.len())
            .into_par_iter()
            .map(|p| {
                let range = offsets[p]..offsets[p + 1];
                rounding::top_k(&x[range.clone()], &s[range], budgets[p])
            })
            .collect())
    }

    fn solve(
        &self,
        batch: &ProblemBatch,
        config: &SolverConfig,
        progress: &dyn Progress,
    ) -> Result<Vec<SolveResult>> {
        // One problem: let it use every thread inside. Many: one problem per task, quietly, since
        // interleaved per-problem progress would be meaningless.
        if batch.len() == 1 {
            let p = batch.problems()[0].as_problem();
            return Ok(vec![config.solve(&p, progress)]);
        }
        Ok(batch
            .problems()
            .par_iter()
            .map(|p| config.solve(&p.as_problem(), &Silent))
            .collect())
    }

    fn knn_graph(
        &self,
        embeddings: ArrayView2<f32>,
        config: &KnnConfig,
        progress: &dyn Progress,
    ) -> Result<CsrSimilarity> {
        knn_graph(embeddings, config, progress)
    }
}
