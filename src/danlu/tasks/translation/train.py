"""``danlu translate train``: a GRU, GRU-with-attention or Transformer translator.

Inside :func:`~danlu.train.launch.training_run` (run folder, torchrun, ``--resume``):

1. read the pairs (``--src-col``/``--tgt-col``) and take the dev pairs: ``--dev``, else
   ``--dev-size`` pairs drawn from ``--train`` (seeded), else none;
2. tokenize each side (``spm`` is trained on the training side only and saved in the run
   folder), build the vocabularies from the training split (one joint vocabulary with
   ``--shared-embeddings``), truncate sentences over ``--max-len`` (one warning a side);
   a ``--right-to-left`` model learns the reversed targets, a ``--bidirectional`` one both
   (:func:`.batches.both_directions`);
3. train with the :class:`~danlu.train.trainer.Trainer` on length-grouped batches
   (:mod:`.batches`), the loss of :mod:`.exposure` (label smoothing, and the exposure-bias
   remedies when asked), dev BLEU (sacreBLEU) after each epoch as ``val_bleu``: the
   early-stopping metric, whose best weights are the ones saved.

Example:
    >>> cfg = TrainTranslatorConfig(train="train.tsv", out="runs/zh-en")  # doctest: +SKIP
    >>> describe(train_translator(cfg))  # doctest: +SKIP
    'dev BLEU 24.10, chrF 44.02'
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path
from typing import Any

from danlu.config import config_to_dict
from danlu.io import write_json
from danlu.tasks.translation.batches import PairData, to_ids, truncate
from danlu.tasks.translation.config import TrainTranslatorConfig
from danlu.tasks.translation.data import (
    Pairs,
    Tokenizer,
    Vocab,
    load_tokenizer,
    make_tokenizer,
    read_pairs,
    split_dev,
    spm_file,
)
from danlu.tasks.translation.exposure import TranslationLoss
from danlu.tasks.translation.model import (
    TranslationSpec,
    build_model,
    direction_of,
    seq2seq_kwargs,
    spec_metadata,
)
from danlu.tasks.translation.translator import dev_evaluator
from danlu.train.launch import training_run
from danlu.train.seed import seed_everything
from danlu.train.trainer import Trainer

__all__ = ["DEV_HINT", "describe", "read_split", "train_tokenizers", "train_translator"]

# how a user of translate train gives validation data (the Trainer refuses --patience without)
DEV_HINT = "pass --dev FILE or a --dev-size > 0"


def read_split(cfg: TrainTranslatorConfig) -> tuple[Pairs, Pairs | None]:
    """The training pairs and the dev pairs (None: no dev), see the module docstring."""
    pairs = read_pairs(cfg.train, cfg.src_col, cfg.tgt_col)
    if cfg.dev:
        return pairs, read_pairs(cfg.dev, cfg.src_col, cfg.tgt_col)
    if cfg.dev_size == 0:
        return pairs, None
    return split_dev(pairs, cfg.dev_size, cfg.split_seed)


def train_tokenizers(cfg: TrainTranslatorConfig, train: Pairs, folder: Path
                     ) -> tuple[Tokenizer, Tokenizer]:  # fmt: skip
    """The source and target tokenizers; an ``spm`` side is trained on ``train`` only and
    written to ``folder/spm.<side>.model`` (``--resume`` reads the run's own)."""
    found = []
    for side, name, texts in (("src", cfg.src_tokenizer, train.src),
                              ("tgt", cfg.tgt_tokenizer, train.tgt)):  # fmt: skip
        path = spm_file(folder, side)
        if cfg.optim.resume and name == "spm" and path.is_file():
            found.append(load_tokenizer(name, path))
        else:
            found.append(make_tokenizer(name, texts, path, cfg.net.spm_vocab))
    return found[0], found[1]


def _spec(cfg: TrainTranslatorConfig, src: list[list[str]], tgt: list[list[str]]
          ) -> TranslationSpec:  # fmt: skip
    opts = cfg.net
    if opts.shared_embeddings:  # one joint vocabulary for the one table
        src_vocab = tgt_vocab = tuple(Vocab.build(src + tgt, opts.min_count).tokens)
    else:
        src_vocab = tuple(Vocab.build(src, opts.min_count).tokens)
        tgt_vocab = tuple(Vocab.build(tgt, opts.min_count).tokens)
    return TranslationSpec(
        model=opts.model, options=json.dumps(seq2seq_kwargs(opts), sort_keys=True),
        src_lang=cfg.src, tgt_lang=cfg.tgt, src_tokenizer=cfg.src_tokenizer,
        tgt_tokenizer=cfg.tgt_tokenizer, src_vocab=src_vocab, tgt_vocab=tgt_vocab,
        max_len=opts.max_len, label_smoothing=opts.label_smoothing,
        direction=direction_of(opts),
    )  # fmt: skip


def train_translator(cfg: TrainTranslatorConfig) -> dict[str, Any]:
    """Train a translator into ``cfg.out``; return the final metrics (best dev BLEU kept)."""
    with training_run(cfg.out, cfg.optim, run_config=cfg) as dist:
        out = Path(cfg.out)
        train, dev = read_split(cfg)
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as scratch:  # spm files of ranks > 0 go there
            tokenizers = train_tokenizers(cfg, train, out if dist.is_main else Path(scratch))
        src_tokens = [tokenizers[0].encode(s) for s in train.src]
        tgt_tokens = [tokenizers[1].encode(s) for s in train.tgt]
        spec = _spec(cfg, src_tokens, tgt_tokens)
        where = [f"{cfg.train}:{line}" for line in train.lines]
        targets = truncate(tgt_tokens, spec.max_len, "target", where)
        if spec.direction == "r2l":  # a right-to-left model learns the reversed targets
            targets = [t[::-1] for t in targets]
        data = PairData(
            to_ids(truncate(src_tokens, spec.max_len, "source", where), Vocab(spec.src_vocab)),
            to_ids(targets, Vocab(spec.tgt_vocab)),
            cfg.optim.batch_size, cfg.batch_tokens, dist.world_size, cfg.optim.seed,
        )  # fmt: skip
        if dist.is_main:
            write_json(out / "config.json", config_to_dict(cfg))
        seed_everything(cfg.optim.seed)
        model = build_model(spec)
        loss = TranslationLoss(
            len(spec.tgt_vocab), model.tgt_embedding, cfg.net.label_smoothing,
            cfg.exposure.token_noise, cfg.exposure.scheduled_sampling, cfg.optim.adversarial,
            cfg.optim.seed, bidirectional=spec.direction == "both",
        )  # fmt: skip
        evaluate = dev_evaluator(spec, tokenizers, dev, cfg.dev_beam) if dev else None
        # the Trainer's batches are the data's length groups; --adversarial is the loss's
        # (decoder embeddings only), not the engine's (every embedding)
        engine = dataclasses.replace(cfg.optim, adversarial=0.0)
        trainer = Trainer(model, loss, data, engine, out, evaluate=evaluate,
                          model_metadata=spec_metadata(spec), validation_hint=DEV_HINT,
                          run_config=cfg)  # fmt: skip
        loss.step = lambda: trainer.state.step
        metrics = trainer.fit()
        metrics.update(
            train_pairs=len(train), dev_pairs=len(dev) if dev else 0,
            src_vocab=len(spec.src_vocab), tgt_vocab=len(spec.tgt_vocab),
            parameters=sum(p.numel() for p in model.parameters()),
            batches_per_epoch=len(data.groups),
        )  # fmt: skip
        if dist.is_main:
            write_json(out / "metrics.json", metrics)
        return metrics


def describe(metrics: dict[str, Any]) -> str:
    """One line: the best dev BLEU and chrF (or the training loss without dev pairs)."""
    if "val_bleu" in metrics:
        return f"dev BLEU {metrics['val_bleu']:.2f}, chrF {metrics['val_chrf']:.2f}"
    return f"train_loss {metrics.get('train_loss', float('nan')):.4f}"
