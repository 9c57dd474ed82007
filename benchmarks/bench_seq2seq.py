"""Sequence-to-sequence benchmarks: incremental decoding and Transformer training speed.

1. Cached incremental decoding (``model.step``: a key/value cache in the Transformer, a
   carried hidden state in the GRUs) against recomputing the whole prefix at every step
   (``model.decode`` of the prefix from the encoder's state, output layer on the last
   position only; the source is encoded once in both), greedy, 30-token outputs, 64
   sentences of 10-20 source tokens, V = 8000. Target: >= 3x for the Transformer.
2. Training tokens/s of danlu's ``TransformerSeq2Seq`` against a model of the same size
   built on ``torch.nn.Transformer`` (same embeddings, positions, tied output, loss,
   AdamW, batches), forward + backward + step, interleaved. Target: danlu within 1.1x.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import torch
from torch import Tensor, nn

from _util import interleaved, markdown_table
from danlu.functional import label_smoothed_nll, sinusoidal_encoding
from danlu.nn import create_seq2seq

V, SRC_LEN, OUT_LEN, SENTENCES = 8000, 20, 30, 64
SIZES = {
    "transformer": {"d_model": 256, "heads": 4, "num_encoder_layers": 3,
                    "num_decoder_layers": 3, "dim_feedforward": 1024},
    "gru_attn": {"embed_dim": 256, "hidden_size": 256, "num_layers": 2},
    "gru": {"embed_dim": 256, "hidden_size": 256, "num_layers": 2},
}  # fmt: skip
SIZE_TEXT = {
    "transformer": "d=256, 4 heads, 3+3 layers, FFN 1024",
    "gru_attn": "E=H=256, 2 layers, additive attention",
    "gru": "E=H=256, 2 layers",
}


def _sources(batch: int, seed: int = 0) -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(SRC_LEN // 2, SRC_LEN + 1, (batch,), generator=g)
    mask = torch.arange(SRC_LEN)[None, :] < lengths[:, None]
    return torch.randint(3, V, (batch, SRC_LEN), generator=g).masked_fill(~mask, 0), mask


def _greedy(model: nn.Module, src: Tensor, mask: Tensor, cached: bool) -> Tensor:
    """30 greedy tokens per sentence, with the cache or recomputing the prefix each step."""
    state = model.start(src, mask)
    tokens = torch.ones(src.size(0), 1, dtype=torch.long)  # BOS = 1
    for _ in range(OUT_LEN):
        if cached:
            log_probs, state = model.step(state, tokens[:, -1])
        else:  # the whole prefix again, from the encoder's state; project the last position
            features, _ = model.decode(state, tokens)
            log_probs = model.logits(features[:, -1]).log_softmax(-1)
        tokens = torch.cat([tokens, log_probs.argmax(-1, keepdim=True)], 1)
    return tokens


def _decoding_table(repeat: int, warmup: int) -> str:
    src, mask = _sources(SENTENCES)
    rows: list[list[object]] = []
    default_threads = torch.get_num_threads()
    for name, options in SIZES.items():
        torch.manual_seed(0)
        model = create_seq2seq(name, V, V, **options).eval()
        fns = {
            "cached": lambda m=model: _greedy(m, src, mask, True),
            "recompute": lambda m=model: _greedy(m, src, mask, False),
        }
        with torch.no_grad():
            same = torch.equal(fns["cached"](), fns["recompute"]())
            assert same, f"{name}: cached and recomputed decoding disagree"
            for threads in sorted({1, default_threads}):
                torch.set_num_threads(threads)
                try:
                    times = interleaved(fns, warmup=warmup, repeat=repeat)
                finally:
                    torch.set_num_threads(default_threads)
                cached, recompute = times["cached"], times["recompute"]
                rows.append([name, SIZE_TEXT[name], threads, recompute * 1e3, cached * 1e3,
                             recompute / cached])  # fmt: skip
    return markdown_table(
        ["model", "size", "threads", "recompute ms", "cached ms", "speed-up recompute/cached"],
        rows,
    )


class TorchTransformerSeq2Seq(nn.Module):
    """The reference: ``nn.Transformer`` (pre-norm) with danlu's embeddings, positions and
    tied output projection, so only the encoder-decoder stacks differ."""

    def __init__(self, vocab: int, d_model: int, heads: int, layers: int, ff: int) -> None:
        super().__init__()
        self.d_model = d_model
        self.src_embedding = nn.Embedding(vocab, d_model, padding_idx=0)
        self.tgt_embedding = nn.Embedding(vocab, d_model, padding_idx=0)
        for emb in (self.src_embedding, self.tgt_embedding):
            nn.init.normal_(emb.weight, std=d_model**-0.5)
        self.register_buffer("pe", sinusoidal_encoding(1024, d_model), persistent=False)
        self.dropout = nn.Dropout(0.1)
        with warnings.catch_warnings():  # "enable_nested_tensor ... norm_first was True"
            warnings.simplefilter("ignore", UserWarning)
            self.transformer = nn.Transformer(
                d_model, heads, layers, layers, ff, 0.1, batch_first=True, norm_first=True
            )

    def _embed(self, table: nn.Embedding, tokens: Tensor) -> Tensor:
        return self.dropout(table(tokens) * math.sqrt(self.d_model) + self.pe[: tokens.size(1)])

    def forward(self, src: Tensor, src_mask: Tensor, tgt_in: Tensor) -> Tensor:
        causal = nn.Transformer.generate_square_subsequent_mask(tgt_in.size(1))
        y = self.transformer(
            self._embed(self.src_embedding, src),
            self._embed(self.tgt_embedding, tgt_in),
            tgt_mask=causal,
            src_key_padding_mask=~src_mask,
            memory_key_padding_mask=~src_mask,
            tgt_is_causal=True,
        )
        return y @ self.tgt_embedding.weight.T


def _training_step(model: nn.Module, batches: list[tuple[Tensor, ...]]) -> Callable[[], None]:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    position = [0]

    def run() -> None:
        src, mask, tgt_in, tgt_out = batches[position[0] % len(batches)]
        position[0] += 1
        loss = label_smoothed_nll(model(src, mask, tgt_in), tgt_out, 0.1, ignore_index=0)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return run


def _training_table(repeat: int, warmup: int) -> tuple[str, int]:
    batch = 64
    batches = []
    for seed in range(4):
        src, mask = _sources(batch, seed)
        tgt, _ = _sources(batch, seed + 100)  # right-padded with 0, so tgt_in is too
        tgt_in = torch.cat([torch.ones(batch, 1, dtype=torch.long), tgt[:, :-1]], 1)  # BOS y
        batches.append((src, mask, tgt_in, tgt))
    tokens = sum(int((b[3] != 0).sum()) for b in batches) / len(batches)
    size = SIZES["transformer"]
    torch.manual_seed(0)
    ours = create_seq2seq("transformer", V, V, **size).train()
    torch.manual_seed(0)
    theirs = TorchTransformerSeq2Seq(V, 256, 4, 3, 1024).train()
    n_ours = sum(p.numel() for p in ours.parameters())
    n_theirs = sum(p.numel() for p in theirs.parameters())
    assert n_ours == n_theirs, (n_ours, n_theirs)
    times = interleaved(
        {"danlu": _training_step(ours, batches), "torch": _training_step(theirs, batches)},
        warmup=warmup,
        repeat=repeat,
    )
    rows = [
        [
            "danlu TransformerSeq2Seq",
            times["danlu"] * 1e3,
            tokens / times["danlu"],
            times["danlu"] / times["torch"],
        ],
        ["nn.Transformer model", times["torch"] * 1e3, tokens / times["torch"], 1.0],
    ]
    table = markdown_table(
        ["model", "ms / step", "target tokens / s", "time ratio to nn.Transformer"], rows
    )
    return table, n_ours


def run(quick: bool = False) -> str:
    """Markdown section with the two tables."""
    decoding = _decoding_table(*((2, 1) if quick else (5, 1)))
    training, params = _training_table(*((3, 1) if quick else (15, 2)))
    return "\n".join(
        [
            "## Sequence-to-sequence models",
            "",
            "### Cached incremental decoding vs recomputing the prefix",
            "",
            f"Greedy decoding of {OUT_LEN} tokens for {SENTENCES} sentences of "
            f"{SRC_LEN // 2}-{SRC_LEN} source tokens, V={V}, float32, one batch. *cached*: "
            "`model.step` (the Transformer's self-attention key/value cache and "
            "cross-attention keys/values computed once; the GRUs' carried hidden state). "
            "*recompute*: `model.decode` of the whole prefix at each step from the same "
            "encoder state, the output layer applied to the last position only. Both emit "
            "the same tokens (checked). Measured with one torch thread (stable on a shared "
            "machine) and the default count. Target: >= 3x for the Transformer.",
            "",
            decoding,
            "",
            "### Transformer training speed vs torch.nn.Transformer",
            "",
            f"Same size ({SIZE_TEXT['transformer']}, {params / 1e6:.2f} M parameters, tied "
            "embeddings, pre-norm), dropout 0.1, label-smoothed loss (0.1), AdamW; batches "
            f"of 64 pairs of {SRC_LEN // 2}-{SRC_LEN} tokens; forward + backward + step, the "
            "two models interleaved, default thread count. Target: time ratio <= 1.1.",
            "",
            training,
            "",
        ]
    )


if __name__ == "__main__":
    import sys

    print(run(quick="--quick" in sys.argv[1:]))
