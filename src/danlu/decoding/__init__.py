"""Decoding: dynamic programming over tag lattices (Viterbi) and search over a decoding step.

- :mod:`~danlu.decoding.viterbi`: Viterbi and k-best Viterbi for chain models.
- Search over ``log_probs, state = step(state, last_tokens)`` (:mod:`~danlu.decoding.state`):
  :func:`greedy_search`, :func:`beam_search`, :func:`sample` and the test oracle
  :func:`exhaustive_search`, batched over sentences × hypotheses; shared rules on lengths
  and length penalties in :mod:`~danlu.decoding.search`, the constraints in
  :mod:`~danlu.decoding.constraints`.
- Bidirectional models (a pair of tokens per step, L2R and R2L):
  :func:`bidirectional_beam_search`, :func:`bidirectional_greedy_search`
  (:mod:`~danlu.decoding.bidirectional_search`), their result and merge in
  :mod:`~danlu.decoding.bidirectional_result`.
"""

from danlu.decoding.beam_search import beam_search
from danlu.decoding.bidirectional_result import (
    DIRECTIONS,
    BidirectionalResult,
    Directions,
    merge_directions,
    reverse_padded,
)
from danlu.decoding.bidirectional_search import (
    bidirectional_beam_search,
    bidirectional_greedy_search,
)
from danlu.decoding.constraints import apply_constraints, banned_ngram_tokens
from danlu.decoding.exhaustive import exhaustive_search
from danlu.decoding.greedy import greedy_search
from danlu.decoding.sampling import sample, sampling_log_probs
from danlu.decoding.search import (
    LENGTH_PENALTIES,
    LengthPenalty,
    SearchResult,
    Step,
    length_penalty,
)
from danlu.decoding.state import State, select_rows
from danlu.decoding.viterbi import backtrack, kbest_viterbi, viterbi

__all__ = [
    "DIRECTIONS",
    "LENGTH_PENALTIES",
    "BidirectionalResult",
    "Directions",
    "LengthPenalty",
    "SearchResult",
    "State",
    "Step",
    "apply_constraints",
    "backtrack",
    "banned_ngram_tokens",
    "beam_search",
    "bidirectional_beam_search",
    "bidirectional_greedy_search",
    "exhaustive_search",
    "greedy_search",
    "kbest_viterbi",
    "length_penalty",
    "merge_directions",
    "reverse_padded",
    "sample",
    "sampling_log_probs",
    "select_rows",
    "viterbi",
]
