"""PCAWhitening/ZCAWhitening: fit on train, transform anywhere, invert, save and load."""

from __future__ import annotations

import pytest
import torch

from danlu.nn.whitening import PCAWhitening, ZCAWhitening

D = torch.float64


def _data(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mixing = torch.tensor([[3.0, 0, 0, 0], [1, 1, 0, 0], [0, 2, 0.5, 0], [1, 0, 0, 0.1]])
    return torch.randn(n, 4, generator=g, dtype=D) @ mixing.to(D) + 5.0


@pytest.mark.parametrize("cls", [PCAWhitening, ZCAWhitening])
def test_fit_on_train_whitens_held_out_data(cls: type) -> None:
    transform = cls(4, eps=0.0, dtype=D).fit(_data(20_000, seed=0))
    z = transform(_data(20_000, seed=1))  # new samples of the same distribution
    torch.testing.assert_close(torch.cov(z.T), torch.eye(4, dtype=D), atol=0.05, rtol=0)
    torch.testing.assert_close(transform.inverse_transform(z), _data(20_000, seed=1))


def test_pca_with_fewer_components_reconstructs_the_projection() -> None:
    x = _data(2000, seed=0)
    pca = PCAWhitening(4, n_components=4, eps=0.0, dtype=D).fit(x)
    pca2 = PCAWhitening(4, n_components=2, eps=0.0, dtype=D).fit(x)
    z, z2 = pca(x), pca2(x)
    assert z2.shape == (2000, 2)
    torch.testing.assert_close(z2, z[:, :2])
    kept = z.clone()
    kept[:, 2:] = 0  # drop the two smallest components
    torch.testing.assert_close(pca2.inverse_transform(z2), pca.inverse_transform(kept))


def test_state_dict_round_trip_and_float32_buffers() -> None:
    x = _data(500, seed=0)
    zca = ZCAWhitening(4).fit(x)
    assert zca.matrix.dtype == torch.float32
    loaded = ZCAWhitening(4)
    loaded.load_state_dict(zca.state_dict())
    torch.testing.assert_close(loaded(x.float()), zca(x.float()))


def test_unfitted_and_misshapen_inputs_are_rejected() -> None:
    with pytest.raises(RuntimeError, match=r"not fitted; call .fit\(train_data\)"):
        PCAWhitening(4).transform(torch.randn(3, 4))
    with pytest.raises(ValueError, match=r"expects shape \(n, 4\)"):
        ZCAWhitening(4).fit(torch.randn(10, 5))
    with pytest.raises(ValueError, match=r"n_components must be an int in \[1, 4\]"):
        PCAWhitening(4, n_components=5)
