"""Decoding: dynamic programming over tag lattices (Viterbi, k-best Viterbi)."""

from danlu.decoding.viterbi import backtrack, kbest_viterbi, viterbi

__all__ = ["backtrack", "kbest_viterbi", "viterbi"]
