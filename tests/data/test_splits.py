"""Splits, K-fold, batching order and standardisation (danlu.data)."""

from __future__ import annotations

import numpy as np
import pytest

from danlu.data.feature_selection import feature_scores, select_top_k
from danlu.data.sampler import EpochBatches, shard
from danlu.data.splits import kfold, train_val_split
from danlu.data.standardize import Standardizer


def test_train_val_split_is_a_seeded_partition() -> None:
    tr, va = train_val_split(100, 0.2, seed=1)
    assert len(va) == 20 and len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == 100
    _, va2 = train_val_split(100, 0.2, seed=1)
    assert np.array_equal(va, va2)
    assert not np.array_equal(va, train_val_split(100, 0.2, seed=2)[1])


@pytest.mark.parametrize(("n", "k"), [(10, 2), (103, 5), (7, 7)])
def test_kfold_validation_parts_partition_the_rows(n: int, k: int) -> None:
    folds = kfold(n, k, seed=0)
    assert len(folds) == k
    allval = np.concatenate([va for _, va in folds])
    assert sorted(allval.tolist()) == list(range(n))
    for tr, va in folds:
        assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == n
        assert abs(len(va) - n / k) < 1


def test_kfold_rejects_bad_k() -> None:
    with pytest.raises(ValueError, match="2 <= k <= n"):
        kfold(5, 6)


def test_epoch_batches_are_deterministic_and_resumable() -> None:
    b = EpochBatches(10, 3, seed=5)
    assert len(b) == 4
    e0 = [x.tolist() for x in b.epoch(0)]
    assert sorted(i for batch in e0 for i in batch) == list(range(10))
    assert e0 == [x.tolist() for x in EpochBatches(10, 3, seed=5).epoch(0)]
    assert e0 != [x.tolist() for x in b.epoch(1)]
    assert [x.tolist() for x in b.epoch(0, start=2)] == e0[2:]
    assert len(EpochBatches(10, 3, drop_last=True)) == 3


def test_shards_partition_a_global_batch() -> None:
    batch = np.arange(7)
    parts = [shard(batch, r, 3) for r in range(3)]
    assert np.array_equal(np.concatenate(parts), batch)
    assert [len(p) for p in parts] == [3, 2, 2]


def test_standardizer_uses_training_statistics() -> None:
    x = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    s = Standardizer.fit(x)
    z = s.transform(x)
    np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z[:, 0].std(), 1.0)
    assert np.all(z[:, 1] == 0.0)  # constant column: sigma taken as 1


def test_feature_scores_against_numpy() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4))
    y = 2 * x[:, 2] - x[:, 0] + 0.1 * rng.normal(size=200)
    scores = feature_scores(x, y, "regression")
    expected = [abs(np.corrcoef(x[:, j], y)[0, 1]) for j in range(4)]
    np.testing.assert_allclose(scores, expected, rtol=1e-10)
    assert select_top_k(x, y, "regression", 2).tolist() == [0, 2]
    labels = (x[:, 1] > 0).astype(int)
    assert select_top_k(x, labels, "classification", 1).tolist() == [1]
