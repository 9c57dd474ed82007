"""The Huffman tree of fastText's hierarchical softmax, and its pruned top-k search.

With ``C`` labels sorted by count (most frequent first) the tree has ``C`` leaves and
``C - 1`` internal nodes; node ``C + i`` owns row ``i`` of the output matrix. Merging
always joins the two lightest nodes (leaves are consumed from the lightest end, merged
nodes in creation order), and the second of the two is the right child (code bit 1).

The probability of label ``y`` is a product along its root path::

    p(y | h) = prod_{n in path(y)} sigmoid(s_n)^{c_n} * (1 - sigmoid(s_n))^{1 - c_n},
    s_n = o_n . h

so frequent labels have short paths and training costs ``O(log C)`` per example.

Example:
    >>> tree = HuffmanTree.build([5, 3, 1])
    >>> tree.paths[0], tree.codes[0]
    ([1], [1])
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["HuffmanTree"]


@dataclass
class HuffmanTree:
    """``paths[y]``: output rows (internal nodes) from leaf ``y`` up to the root;
    ``codes[y]``: the matching branch bits; ``left``/``right``: children of node ``n``."""

    n_leaves: int
    left: list[int]
    right: list[int]
    paths: list[list[int]]
    codes: list[list[int]]

    @classmethod
    def build(cls, counts: Sequence[int]) -> HuffmanTree:
        """fastText's ``buildTree`` for label counts in non-increasing order."""
        osz = len(counts)
        size = 2 * osz - 1
        count = [int(c) for c in counts] + [10**15] * (osz - 1)
        parent = [-1] * size
        binary = [0] * size
        left = [-1] * size
        right = [-1] * size
        leaf, node = osz - 1, osz
        for i in range(osz, size):
            mini = [0, 0]
            for j in range(2):
                if leaf >= 0 and count[leaf] < count[node]:
                    mini[j] = leaf
                    leaf -= 1
                else:
                    mini[j] = node
                    node += 1
            left[i], right[i] = mini
            count[i] = count[mini[0]] + count[mini[1]]
            parent[mini[0]] = parent[mini[1]] = i
            binary[mini[1]] = 1
        paths, codes = [], []
        for i in range(osz):
            path, code, j = [], [], i
            while parent[j] != -1:
                path.append(parent[j] - osz)
                code.append(binary[j])
                j = parent[j]
            paths.append(path)
            codes.append(code)
        return cls(osz, left, right, paths, codes)

    def padded(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(paths, codes, mask), each (C, D) with D the longest path, zero padded."""
        depth = max(1, max(len(p) for p in self.paths))
        paths = np.zeros((self.n_leaves, depth), np.int64)
        codes = np.zeros((self.n_leaves, depth), np.float32)
        mask = np.zeros((self.n_leaves, depth), np.float32)
        for y, (p, c) in enumerate(zip(self.paths, self.codes, strict=True)):
            paths[y, : len(p)] = p
            codes[y, : len(c)] = c
            mask[y, : len(p)] = 1.0
        return paths, codes, mask

    def top_k(self, node_scores: np.ndarray, k: int, threshold: float = 0.0) -> list[tuple]:
        """fastText's pruned depth-first search for the ``k`` most likely labels.

        Args:
            node_scores: (C - 1,) logits ``s_n`` of the internal nodes for one example.
            k: number of labels wanted.
            threshold: drop labels whose probability is below it.

        Returns:
            [(log-probability, label)] best first.
        """
        heap: list[tuple[float, int]] = []  # min-heap of the best k so far
        floor = math.log(threshold + 1e-5)
        osz = self.n_leaves
        if osz == 1:
            return [(0.0, 0)]

        def dfs(node: int, score: float) -> None:
            if score < floor or (len(heap) == k and score < heap[0][0]):
                return
            if self.left[node] == -1:
                heapq.heappush(heap, (score, node))
                if len(heap) > k:
                    heapq.heappop(heap)
                return
            f = 1.0 / (1.0 + math.exp(-float(node_scores[node - osz])))
            dfs(self.left[node], score + math.log(1.0 - f + 1e-5))
            dfs(self.right[node], score + math.log(f + 1e-5))

        dfs(2 * osz - 2, 0.0)
        return sorted(heap, reverse=True)
