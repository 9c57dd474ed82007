"""``danlu translate align``: the attention of the decoder over the source, as a heat map.

The sentence is translated (``--beam``), then the decoder is run teacher-forced on its own
output to read its attention over the source: row ``t`` is the attention while predicting
output token ``y_t`` (the last row: while predicting ``</s>``). ``gru_attn`` has one
attention (``α``); the Transformer has one per layer and head: ``--layer``/``--head`` pick
one (1-based), or their mean is drawn. ``gru`` attends to nothing and is refused.

Tick labels need a font with the tokens' glyphs: Chinese ones come from the first CJK font
matplotlib finds (:data:`CJK_FONTS`); without one, a Chinese token is labelled by its code
points (``<4F60>``) and a note on stderr says so. The alignment is also returned as text
(each output token with the source token it attends to most), which a terminal shows.

Example:
    >>> info = draw_alignment(AlignConfig(model="runs/zh-en", text="我们走吧。"))  # doctest: +SKIP
    >>> info["pairs"][:2]  # doctest: +SKIP
    [('▁Let', '走'), ("'s", '我们')]
"""

from __future__ import annotations

import sys
from typing import Any

import torch
from torch import Tensor

from danlu.errors import UsageError
from danlu.io import check_output_file
from danlu.tasks.translation.config import AlignConfig
from danlu.tasks.translation.data import BOS, EOS
from danlu.tasks.translation.translator import Translator, load_translator
from danlu.train.run_log import save_figure

__all__ = ["CJK_FONTS", "attention_map", "cjk_font", "draw_alignment", "tick_labels"]

# Fonts with Chinese glyphs, in order of preference (Linux, then macOS and Windows names)
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Droid Sans Fallback", "AR PL UMing CN", "PingFang SC",
             "Heiti SC", "Microsoft YaHei", "SimHei")  # fmt: skip
_CJK_START = 0x2E80  # CJK radicals, ideographs, punctuation and full-width forms from here


def cjk_font() -> str | None:
    """The first of :data:`CJK_FONTS` that matplotlib knows, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def tick_labels(tokens: list[str], font: str | None) -> tuple[list[str], bool]:
    """Labels for ``tokens``; without a CJK ``font``, CJK characters become ``<XXXX>``.
    Returns the labels and whether any had to be replaced."""
    if font is not None:
        return tokens, False
    labels = ["".join(f"<{ord(c):X}>" if ord(c) >= _CJK_START else c for c in t)
              for t in tokens]  # fmt: skip
    return labels, labels != tokens


def attention_map(weights: Tensor, layer: int | None, head: int | None) -> tuple[Tensor, str]:
    """(T, S) weights of one sentence and what they are: ``weights`` is (1, T, S) (gru_attn)
    or (1, layers, heads, T, S) (Transformer); layer/head are 1-based, None: the mean."""
    if weights.dim() == 3:
        if layer is not None or head is not None:
            raise UsageError("--layer/--head choose among a Transformer's attention maps; "
                             "this model has one attention: drop them")  # fmt: skip
        return weights[0], "attention"
    picked, parts = weights[0], []  # (L, H, T, S)
    for flag, value, size, what in (("--layer", layer, picked.size(0), "layer"),
                                    ("--head", head, picked.size(1), "head")):  # fmt: skip
        if value is not None and not 1 <= value <= size:
            raise UsageError(f"{flag} {value}: the model has {size} {what}s; pick 1..{size}")
        parts.append(f"{what} {value}" if value else f"mean of {size} {what}s")
    heads = picked.mean(0) if layer is None else picked[layer - 1]  # (H, T, S)
    grid = heads.mean(0) if head is None else heads[head - 1]  # (T, S)
    return grid, "cross-attention, " + ", ".join(parts)


def _weights(translator: Translator, src_tokens: list[str], out_ids: list[int]) -> Tensor:
    """Source attention while the model reads its own output ``out_ids`` (EOS last if it
    ended): ``(1, T, S)`` or ``(1, L, H, T, S)``, row ``t`` predicting ``out_ids[t]``. A
    right-to-left model reads the output reversed (its rows are put back in reading order);
    a bidirectional one reads both and the L2R decoder's weights are drawn."""
    device, direction = translator.device, translator.spec.direction
    ended = out_ids[-1] == EOS
    words = out_ids[:-1] if ended else out_ids
    l2r = [BOS, *words][: len(out_ids)]
    r2l = [BOS, *words[::-1]][: len(out_ids)]
    src = torch.tensor([translator.src_vocab.ids(src_tokens)], device=device)  # (1, S)
    tgt_in = {"l2r": [l2r], "r2l": [r2l], "both": [list(zip(l2r, r2l, strict=True))]}
    with torch.no_grad():
        weights = translator.model.attention_weights(
            src, src != 0, torch.tensor(tgt_in[direction], device=device)
        )  # fmt: skip
    if direction == "both":  # (1, 2, L, H, T, S): the L2R decoder's
        return weights[:, 0]
    if direction == "r2l":  # row t predicted the (t+1)-th token from the end
        order = [*range(len(words) - 1, -1, -1), *([len(words)] if ended else [])]
        return weights[..., order, :]
    return weights


def draw_alignment(cfg: AlignConfig) -> dict[str, Any]:
    """Translate ``cfg.text``, draw the attention to ``cfg.out``; return what was drawn."""
    check_output_file(cfg.out, "--out")
    translator = load_translator(cfg.model, cfg.device, cfg.threads)
    (src_tokens,) = translator.source_tokens([cfg.text])
    if not src_tokens:
        raise UsageError("--text is empty; pass the sentence to translate and align")
    best = translator.search([cfg.text], cfg.decode)[0][0]
    out_ids = list(best.ids) or [EOS]
    weights = _weights(translator, src_tokens, out_ids)
    grid, what = attention_map(weights.float().cpu(), cfg.layer, cfg.head)  # (T, S)
    out_tokens = [translator.tgt_vocab.tokens[i] for i in out_ids]
    replaced = _plot(grid, src_tokens, out_tokens, f"{translator.spec.model} {what}", cfg.out)
    if replaced:
        print("note: no font with Chinese glyphs found (install e.g. fonts-noto-cjk); Chinese "
              "tokens are labelled by code point", file=sys.stderr)  # fmt: skip
    # each output token with the source token it attends to most
    pairs = [(o, src_tokens[j]) for o, j in zip(out_tokens, grid.argmax(1).tolist(), strict=True)]
    return {"source": src_tokens, "output": out_tokens, "translation": best.text,
            "what": what, "out": cfg.out, "pairs": pairs}  # fmt: skip


def _plot(grid: Tensor, src_tokens: list[str], out_tokens: list[str], title: str, path: str
          ) -> bool:  # fmt: skip
    """Draw the heat map; True if CJK labels had to be replaced (no CJK font)."""
    from matplotlib.figure import Figure  # no pyplot: headless, global state untouched

    font = cjk_font()
    xlabels, replaced_x = tick_labels(src_tokens, font)
    ylabels, replaced_y = tick_labels(out_tokens, font)
    text = {"fontfamily": [font, "DejaVu Sans"]} if font else {}
    width, height = 1.5 + 0.45 * len(src_tokens), 1.5 + 0.35 * len(out_tokens)
    fig = Figure(figsize=(min(max(width, 4), 30), min(max(height, 3), 30)), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(grid.numpy(), cmap="Blues", vmin=0.0, aspect="auto")
    ax.set_xticks(range(len(xlabels)), xlabels, rotation=90, **text)
    ax.set_yticks(range(len(ylabels)), ylabels, **text)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, shrink=0.8)
    save_figure(fig, path, dpi=120)
    return replaced_x or replaced_y
