"""Type stubs of the extension module ``infoprune._native`` (Rust, PyO3).

The documented interface is the ``infoprune`` package; these functions take the keywords of a
command as one dict (arrays included, ``None`` meaning "not given") and return raw results.
"""

from typing import Any, Dict, List, Optional, Tuple

import numpy as np

__version__: str

def select(
    options: Dict[str, Any], progress: bool = False
) -> Tuple[np.ndarray, str, Optional[int]]:
    """Kept indices (int64), the report as JSON, the address of the embeddings read in place."""

def graph(
    options: Dict[str, Any], progress: bool = False
) -> Tuple[np.ndarray, np.ndarray, np.ndarray, int, str]:
    """``(indptr, indices, data, n, report JSON)`` of the kNN similarity."""

def evaluate(
    graph: Tuple[Any, Any, Any, Tuple[int, int]],
    scores: Any,
    subset: Any,
    alpha: float,
    fl_self_similarity: float,
) -> str:
    """The evaluation as JSON."""

def score(options: Dict[str, Any]) -> Tuple[np.ndarray, str]:
    """The scores (float32) and the kind's name."""

def sim(options: Dict[str, Any]) -> Tuple[np.ndarray, str]:
    """SIM or one of its terms (float32), and the term's name."""

def tokens(
    options: Dict[str, Any], progress: bool = False
) -> Tuple[np.ndarray, Optional[List[str]], str]:
    """The keep mask (uint8, n × T), the extended captions, the report as JSON."""

def demo_data(
    n: int, dim: int, clusters: int, seed: int
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``infoprune demo``'s data: embeddings (float32), scores (float32), labels (int64)."""

def keywords(command: str) -> List[str]:
    """Every keyword the function of ``command`` takes (its command-line options in snake case)."""
