"""BLEU (Papineni et al., 2002) on tokenized text, and the sacreBLEU scores a task reports.

For each hypothesis (candidate) and its references, the modified n-gram precision clips
each hypothesis n-gram count by the most times it occurs in any single reference; over a
corpus the clipped counts and the totals are summed before dividing:

    p_n = Σ_sent Σ_{g ∈ n-grams(hyp)} min(count_hyp(g), max_ref count_ref(g))
          / Σ_sent Σ_{g ∈ n-grams(hyp)} count_hyp(g)

With c the total hypothesis length and r the total reference length, the brevity penalty
and the score (uniform weights w_n = 1/N, N = 4 in the paper and the notes) are

    BP = exp(min(0, 1 - r / c))          (0 when c = 0)
    BLEU = 100 · BP · exp(Σ_{n=1..N} w_n log p_n)

The notes average the orders geometrically because p_n falls roughly exponentially with n.

Where implementations differ (this module follows sacreBLEU, and a test checks it against
``sacrebleu.metrics.BLEU(tokenize="none")`` to 1e-9):

- r: the paper sums the "best match length" of each sentence, its *effective reference
  length*. Here, as in sacreBLEU, NLTK and mteval-v13a, that is the reference length
  closest to the hypothesis length, ties going to the shorter reference (some older
  scripts take the shortest reference instead). sacreBLEU's signature field ``eff`` is
  something else: the *effective order* below.
- Smoothing is not in the paper. A single sentence rarely has a 4-gram match, which makes
  its BLEU 0; the methods of Chen & Cherry (2014) replace a zero precision:
  ``exp`` (mteval-v13a's, sacreBLEU's default): the k-th order with no match gets
  p_n = 1 / (2^k · total_n); ``floor``: p_n = ε / total_n (ε = 0.1);
  ``add-k``: p_n = (matches_n + k) / (total_n + k) for n ≥ 2 (k = 1); ``none``.
  With no matching n-gram of any order the score is 0 whatever the smoothing (sacreBLEU).
- Effective order (sacreBLEU's ``use_effective_order``, the default of
  :func:`sentence_bleu`): average only the orders the hypothesis has n-grams of, so a
  three-word sentence is scored on n = 1..3 instead of getting 0.
- The input here is already tokenized: token lists, or strings split on whitespace
  (sacreBLEU's ``tokenize="none"``). Reported scores must not depend on the tokenizer a
  model happens to use, so :func:`sacrebleu_scores` gives sacreBLEU's own scores, with its
  signature, on detokenized text.

Example:
    >>> s = corpus_bleu(["the cat sat on the mat"], [["the cat sat on a mat"]])
    >>> round(s.score, 2), s.counts, s.totals
    (53.73, (5, 3, 2, 1), (6, 5, 4, 3))
    >>> round(sentence_bleu("the cat sat", ["the cat sat down"]).score, 2)
    71.65

Reference: Papineni, Roukos, Ward & Zhu, "BLEU: a Method for Automatic Evaluation of
Machine Translation", ACL 2002. Post, "A Call for Clarity in Reporting BLEU Scores",
WMT 2018 (sacreBLEU). Chen & Cherry, "A Systematic Comparison of Smoothing Techniques for
Sentence-Level BLEU", WMT 2014.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from danlu.errors import UsageError

__all__ = [
    "SMOOTHING",
    "BleuScore",
    "Smoothing",
    "corpus_bleu",
    "sacrebleu_scores",
    "sacrebleu_tokenizer",
    "sentence_bleu",
]

#: A sentence: a list of tokens, or a string split on whitespace.
Tokens: TypeAlias = str | Sequence[Hashable]
Smoothing = Literal["none", "exp", "floor", "add-k"]
#: Smoothing methods and the default of their value (sacreBLEU's ``SMOOTH_DEFAULTS``).
SMOOTHING: dict[str, float | None] = {"none": None, "exp": None, "floor": 0.1, "add-k": 1.0}


@dataclass(frozen=True)
class BleuScore:
    """A BLEU score and its parts.

    Attributes:
        score: BLEU in 0..100.
        precisions: p_n in percent for n = 1..max_n, after smoothing (0 past the
            longest order the hypotheses have).
        bp: the brevity penalty.
        ratio: hyp_len / ref_len (0 when ref_len is 0).
        hyp_len: c, the total hypothesis length in tokens.
        ref_len: r, the total (closest) reference length in tokens.
        counts: clipped n-gram matches per order, before smoothing.
        totals: hypothesis n-grams per order, before smoothing.
    """

    score: float
    precisions: tuple[float, ...]
    bp: float
    ratio: float
    hyp_len: int
    ref_len: int
    counts: tuple[int, ...]
    totals: tuple[int, ...]

    def __str__(self) -> str:
        """sacreBLEU's layout: ``BLEU = 53.73 83.3/60.0/50.0/33.3 (BP = 1.000 ...)``."""
        prec = "/".join(f"{p:.1f}" for p in self.precisions)
        return (
            f"BLEU = {self.score:.2f} {prec} (BP = {self.bp:.3f} ratio = {self.ratio:.3f} "
            f"hyp_len = {self.hyp_len} ref_len = {self.ref_len})"
        )


def corpus_bleu(
    hypotheses: Sequence[Tokens],
    references: Sequence[Tokens | Sequence[Tokens]],
    max_n: int = 4,
    smooth: Smoothing = "exp",
    smooth_value: float | None = None,
    effective_order: bool = False,
) -> BleuScore:
    """Corpus BLEU: clipped n-gram counts summed over all sentences, then one score.

    Equal to ``sacrebleu.metrics.BLEU(tokenize="none", smooth_method=smooth,
    max_ngram_order=max_n, effective_order=effective_order).corpus_score`` on the same
    tokens joined by spaces. Smoothing only matters when some order has no match at all
    in the whole corpus; otherwise every method gives the paper's formula.

    Args:
        hypotheses: one tokenized hypothesis per sentence: a token list, or a string
            split on whitespace.
        references: for sentence i, its references: a list of token lists or strings
            (several references), or a single string (one reference).
        max_n: the longest n-gram order N (4 in the paper).
        smooth: ``"exp"`` (sacreBLEU's default), ``"floor"``, ``"add-k"`` or ``"none"``.
        smooth_value: ε for ``floor`` (default 0.1), k for ``add-k`` (default 1).
        effective_order: average only the orders the hypotheses have n-grams of.

    Returns:
        A :class:`BleuScore`.

    Raises:
        UsageError: an empty corpus, different numbers of hypotheses and references, a
            sentence without references, or a bad ``max_n``/``smooth``/``smooth_value``.

    Example:
        >>> corpus_bleu([["a", "b", "c", "d"]], [[["a", "b", "c", "d"]]]).score
        100.0
    """
    value = _check_options(max_n, smooth, smooth_value)
    if len(hypotheses) == 0:
        raise UsageError("corpus_bleu got no hypotheses; BLEU needs at least one sentence")
    if len(hypotheses) != len(references):
        raise UsageError(
            f"corpus_bleu got {len(hypotheses)} hypotheses but {len(references)} reference "
            "entries; give one entry (a list of references) per hypothesis"
        )
    hyp_len = ref_len = 0
    counts, totals = [0] * max_n, [0] * max_n
    for i, (hyp, refs) in enumerate(zip(hypotheses, references, strict=True)):
        c, r, m, t = _sentence_statistics(hyp, refs, max_n, f"sentence {i}")
        hyp_len, ref_len = hyp_len + c, ref_len + r
        for n in range(max_n):
            counts[n] += m[n]
            totals[n] += t[n]
    return _score(counts, totals, hyp_len, ref_len, smooth, value, effective_order)


def sentence_bleu(
    hypothesis: Tokens,
    references: Tokens | Sequence[Tokens],
    max_n: int = 4,
    smooth: Smoothing = "exp",
    smooth_value: float | None = None,
    effective_order: bool = True,
) -> BleuScore:
    """BLEU of one sentence, smoothed, over the orders it has (as ``sacrebleu.sentence_bleu``).

    The same formula as :func:`corpus_bleu` on a corpus of one sentence, with effective
    order on by default. Sentence scores are for analysis (which sentences got worse);
    their mean is not corpus BLEU.

    Args:
        hypothesis: a token list, or a string split on whitespace.
        references: its references (a list of token lists or strings), or one string.
        max_n, smooth, smooth_value, effective_order: as in :func:`corpus_bleu`.

    Example:
        >>> s = sentence_bleu("the cat sat", ["the cat sat down"])
        >>> s.counts, round(s.bp, 4)
        ((3, 2, 1, 0), 0.7165)
    """
    return corpus_bleu([hypothesis], [references], max_n, smooth, smooth_value, effective_order)


def _check_options(max_n: int, smooth: str, smooth_value: float | None) -> float:
    """Validate the options; return the smoothing value to use (0 when it has none)."""
    if isinstance(max_n, bool) or not isinstance(max_n, int) or max_n < 1:
        raise UsageError(f"max_n must be an integer >= 1 (4 in the paper), got {max_n!r}")
    if smooth not in SMOOTHING:
        raise UsageError(f"unknown BLEU smoothing {smooth!r}; valid: {', '.join(SMOOTHING)}")
    default = SMOOTHING[smooth]
    if default is None:
        return 0.0
    value = default if smooth_value is None else smooth_value
    if not value > 0:
        raise UsageError(
            f"smooth_value for {smooth!r} must be > 0, got {smooth_value!r}; "
            f"leave it out for the default {default}"
        )
    return float(value)


def _tokens(sentence: Tokens) -> list[Hashable]:
    return sentence.split() if isinstance(sentence, str) else list(sentence)


def _ngrams(tokens: list[Hashable], max_n: int) -> Counter[tuple[Hashable, ...]]:
    """Counts of every n-gram of ``tokens``, n = 1..max_n."""
    return Counter(
        tuple(tokens[i : i + n]) for n in range(1, max_n + 1) for i in range(len(tokens) - n + 1)
    )


def _sentence_statistics(
    hypothesis: Tokens, references: Tokens | Sequence[Tokens], max_n: int, where: str
) -> tuple[int, int, list[int], list[int]]:
    """(c, closest r, clipped matches per order, hypothesis n-grams per order)."""
    hyp = _tokens(hypothesis)
    refs = [references] if isinstance(references, str) else list(references)
    if not refs:
        raise UsageError(f"{where} has no reference; give each hypothesis at least one")
    if not isinstance(hypothesis, str) and any(isinstance(r, str) for r in refs):
        # [["a", "b"]] vs ["a", "b"]: two one-word references, or one forgotten wrapper?
        raise UsageError(
            f"{where}: the hypothesis is a token list but its references hold strings "
            f"({refs[:3]!r}); give its references as a list of token lists, "
            '[["the", "cat"]], or pass strings for both'
        )
    ref_tokens = [_tokens(r) for r in refs]
    # the most times each n-gram occurs in any one reference: the clipping bound
    max_ref: Counter[tuple[Hashable, ...]] = Counter()
    for ref in ref_tokens:
        max_ref |= _ngrams(ref, max_n)
    matches, totals = [0] * max_n, [0] * max_n
    for gram, count in _ngrams(hyp, max_n).items():
        totals[len(gram) - 1] += count
        matches[len(gram) - 1] += min(count, max_ref[gram])
    c = len(hyp)
    # closest reference length, ties to the shorter one
    r = min((len(ref) for ref in ref_tokens), key=lambda length: (abs(length - c), length))
    return c, r, matches, totals


def _score(
    counts: list[int],
    totals: list[int],
    hyp_len: int,
    ref_len: int,
    smooth: str,
    value: float,
    effective_order: bool,
) -> BleuScore:
    """BLEU from the corpus statistics (the order of steps follows sacreBLEU's)."""
    max_n = len(counts)
    # BP = exp(min(0, 1 - r/c)); an empty output gets 0, unless its references are empty too
    bp = math.exp(min(0.0, 1 - ref_len / hyp_len)) if hyp_len > 0 else float(ref_len == 0)
    ratio = hyp_len / ref_len if ref_len else 0.0
    precisions = [0.0] * max_n  # fractions here, percent in the result

    def result(score: float) -> BleuScore:
        percent = tuple(100.0 * p for p in precisions)
        return BleuScore(score, percent, bp, ratio, hyp_len, ref_len, tuple(counts), tuple(totals))

    if not any(counts):  # nothing matches: 0 whatever the smoothing
        return result(0.0)
    order, zeros = max_n, 0
    for n in range(max_n):
        matched, total = float(counts[n]), float(totals[n])
        if smooth == "add-k" and n > 0:
            matched, total = matched + value, total + value
        if total == 0:  # no hypothesis is n or more tokens long
            break
        if effective_order:
            order = n + 1
        if matched > 0:
            precisions[n] = matched / total
        elif smooth == "exp":
            zeros += 1
            precisions[n] = 1.0 / (2**zeros * total)
        elif smooth == "floor":
            precisions[n] = value / total
    used = precisions[:order]
    if min(used) == 0.0:  # log 0: the geometric mean is 0
        return result(0.0)
    return result(100.0 * bp * math.exp(sum(math.log(p) for p in used) / order))


def sacrebleu_tokenizer(target_lang: str) -> str:
    """sacreBLEU's tokenizer for a target language: ``"zh"`` for Chinese, else ``"13a"``.

    ``zh``, ``zh-CN``, ``zh_TW`` and ``cmn`` (Tatoeba's code for Mandarin) are Chinese;
    every other language gets ``13a``, the tokenizer of mteval-v13a and sacreBLEU's default.
    """
    if not isinstance(target_lang, str) or not target_lang.strip():
        raise UsageError(
            f"target language must be a language code such as 'en' or 'zh', got {target_lang!r}"
        )
    primary = target_lang.strip().lower().replace("_", "-").split("-")[0]
    return "zh" if primary in ("zh", "cmn") else "13a"


def sacrebleu_scores(
    hypotheses: Sequence[str], references: Sequence[str], target_lang: str
) -> dict[str, Any]:
    """Corpus BLEU and chrF from sacreBLEU itself, with their signatures: the scores to report.

    Hypotheses and references are detokenized text (Chinese without spaces, English as
    normal text): sacreBLEU tokenizes them itself, ``tok:zh`` for a Chinese target and
    ``tok:13a`` otherwise (:func:`sacrebleu_tokenizer`), so the score does not depend on the
    model's own tokenizer. BLEU uses sacreBLEU's defaults (exp smoothing, mixed case);
    chrF is chrF2 (character 6-grams, β = 2).

    Args:
        hypotheses: one output line per sentence.
        references: one reference line per sentence.
        target_lang: the target language code (``"en"``, ``"zh"``, ...).

    Returns:
        A JSON-ready dict: ``bleu`` and ``chrf`` (0..100), ``bleu_signature`` and
        ``chrf_signature`` (``nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:...``),
        ``bleu_line`` and ``chrf_line`` (sacreBLEU's own one-line reports, signature
        included, to print), ``bleu_precisions`` (percent), ``bleu_bp``, ``bleu_ratio``,
        ``hyp_len`` and ``ref_len`` (in sacreBLEU's tokens).

    Example:
        >>> s = sacrebleu_scores(["我爱北京。"], ["我爱北京。"], "zh")
        >>> round(s["bleu"], 2), "tok:zh" in s["bleu_signature"]
        (100.0, True)
    """
    from sacrebleu.metrics import BLEU, CHRF

    tokenize = sacrebleu_tokenizer(target_lang)
    if len(hypotheses) == 0:
        raise UsageError("sacrebleu_scores got no hypotheses; scoring needs at least one line")
    if len(hypotheses) != len(references):
        raise UsageError(
            f"sacrebleu_scores got {len(hypotheses)} hypotheses but {len(references)} "
            "references; give one reference line per hypothesis"
        )
    for what, lines in (("hypotheses", hypotheses), ("references", references)):
        bad = next((i for i, line in enumerate(lines) if not isinstance(line, str)), None)
        if bad is not None:
            raise UsageError(
                f"{what}[{bad}] is {type(lines[bad]).__name__}, not a string; sacreBLEU "
                "scores detokenized text: join the tokens into the output sentence first"
            )
    hyps, refs = list(hypotheses), [list(references)]
    bleu, chrf = BLEU(tokenize=tokenize), CHRF()
    b, c = bleu.corpus_score(hyps, refs), chrf.corpus_score(hyps, refs)
    bleu_sig, chrf_sig = bleu.get_signature().format(), chrf.get_signature().format()
    return {
        "bleu": b.score,
        "chrf": c.score,
        "bleu_signature": bleu_sig,
        "chrf_signature": chrf_sig,
        "bleu_line": b.format(signature=bleu_sig),
        "chrf_line": c.format(signature=chrf_sig),
        "bleu_precisions": list(b.precisions),
        "bleu_bp": b.bp,
        "bleu_ratio": b.ratio,
        "hyp_len": b.sys_len,
        "ref_len": b.ref_len,
    }
