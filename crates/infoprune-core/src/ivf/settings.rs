//! The IVF options as given ([`IvfParams`]) and with every default filled in for a data size
//! ([`IvfSettings`]).

use crate::error::{CoreError, Result};

/// Lists probed per row when none is given (SPEC §1.3).
pub const DEFAULT_NPROBE: usize = 8;

/// Lloyd rounds of the centroid training when none is given ("a few"; it stops earlier when the
/// sample's assignment no longer changes).
pub const DEFAULT_TRAIN_ITERATIONS: usize = 10;

/// Training rows per centroid: the sample is `min(n, 40 · nlist)` rows (SPEC §1.3).
pub const TRAIN_ROWS_PER_LIST: usize = 40;

/// `nlist` when none is given: `round(4·√n)`, clamped to `1..=n`.
pub fn default_nlist(n: usize) -> usize {
    ((4.0 * (n as f64).sqrt()).round() as usize).clamp(1, n.max(1))
}

/// The IVF options as given; `None` means "the default for the data size".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IvfParams {
    /// Number of lists (k-means centroids); default [`default_nlist`]`(n)`. Must be in `1..=n`.
    pub nlist: Option<usize>,
    /// Lists probed per row, its own included; default `min(8, nlist)`. Must be in `1..=nlist`.
    pub nprobe: Option<usize>,
    /// Lloyd rounds of the training (default [`DEFAULT_TRAIN_ITERATIONS`]).
    pub train_iterations: usize,
    /// Rows whose IVF neighbours are compared with an exact search to measure recall@m (0: no
    /// measurement). At most `n`.
    pub recall_sample: usize,
    /// Seed of the training sample, the initial centroids and the recall sample.
    pub seed: u64,
}

impl Default for IvfParams {
    fn default() -> Self {
        Self {
            nlist: None,
            nprobe: None,
            train_iterations: DEFAULT_TRAIN_ITERATIONS,
            recall_sample: 0,
            seed: 0,
        }
    }
}

impl IvfParams {
    /// Checks what can be checked without the data: `nlist ≥ 1`, `nprobe ≥ 1`, `nprobe ≤ nlist`
    /// when both are given.
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] naming `nlist` or `nprobe`.
    pub fn validate(&self) -> Result<()> {
        if self.nlist == Some(0) {
            return Err(CoreError::InvalidParameter {
                name: "nlist",
                value: "0".into(),
                reason: "need at least one list",
            });
        }
        if self.nprobe == Some(0) {
            return Err(CoreError::InvalidParameter {
                name: "nprobe",
                value: "0".into(),
                reason: "every row must probe at least its own list",
            });
        }
        if let (Some(nlist), Some(nprobe)) = (self.nlist, self.nprobe) {
            if nprobe > nlist {
                return Err(CoreError::InvalidParameter {
                    name: "nprobe",
                    value: format!("{nprobe} (nlist = {nlist})"),
                    reason: "cannot probe more lists than there are (nprobe ≤ nlist)",
                });
            }
        }
        Ok(())
    }

    /// The settings for `n` rows: defaults filled in, everything checked against `n`.
    ///
    /// # Errors
    /// As [`IvfParams::validate`], and [`CoreError::InvalidParameter`] naming `nlist` when it
    /// exceeds `n`, `nprobe` when the default `nlist` is smaller than the given `nprobe`, or
    /// `recall-sample` when it exceeds `n`.
    pub fn resolve(&self, n: usize) -> Result<IvfSettings> {
        self.validate()?;
        let nlist = match self.nlist {
            Some(nlist) if nlist > n => {
                return Err(CoreError::InvalidParameter {
                    name: "nlist",
                    value: format!("{nlist} (n = {n})"),
                    reason: "cannot have more lists than rows (nlist ≤ n)",
                })
            }
            Some(nlist) => nlist,
            None => default_nlist(n),
        };
        let nprobe = match self.nprobe {
            Some(nprobe) if nprobe > nlist => {
                return Err(CoreError::InvalidParameter {
                    name: "nprobe",
                    value: format!("{nprobe} (nlist = {nlist})"),
                    reason: "cannot probe more lists than there are (nprobe ≤ nlist)",
                })
            }
            Some(nprobe) => nprobe,
            None => DEFAULT_NPROBE.min(nlist),
        };
        if self.recall_sample > n {
            return Err(CoreError::InvalidParameter {
                name: "recall-sample",
                value: format!("{} (n = {n})", self.recall_sample),
                reason: "cannot sample more rows than there are",
            });
        }
        Ok(IvfSettings {
            nlist,
            nprobe,
            train_iterations: self.train_iterations,
            recall_sample: self.recall_sample,
            seed: self.seed,
        })
    }
}

/// IVF parameters with every default filled in for a given `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IvfSettings {
    /// Number of lists, in `1..=n`.
    pub nlist: usize,
    /// Lists probed per row, in `1..=nlist`.
    pub nprobe: usize,
    /// Lloyd rounds of the training.
    pub train_iterations: usize,
    /// Rows sampled to measure recall (0: none).
    pub recall_sample: usize,
    /// Seed.
    pub seed: u64,
}
