"""Reciprocal rank fusion of ranked id lists (dense and lexical)."""

from __future__ import annotations

from collections.abc import Sequence

RRF_K = 10
DENSE_WEIGHT = 0.5
LEXICAL_WEIGHT = 1.0
"""Chosen with `bench/retrieval/evaluate.py --tune` on the "dev" half of the queries only (a plateau:
k in 3..20 with dense weight 0.5 all score best there); the "test" half is reported untouched."""


def rrf(
    rankings: Sequence[Sequence[str]], weights: Sequence[float] | None = None, k: int = RRF_K
) -> list[tuple[str, float]]:
    """Fuse rankings: score(id) = sum_i w_i / (k + rank_i(id)), rank starting at 1; best first."""
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[str, float] = {}
    first_seen: dict[str, int] = {}
    for ranking, w in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + w / (k + rank)
            first_seen.setdefault(item, len(first_seen))
    return sorted(scores.items(), key=lambda kv: (-kv[1], first_seen[kv[0]]))
