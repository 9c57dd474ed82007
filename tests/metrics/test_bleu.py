"""BLEU from the paper's definition, checked against sacreBLEU (``tokenize="none"``) to 1e-9.

The corpora are real Tatoeba pairs (English words, Chinese characters) with hypotheses made
by perturbing the references: dropping, swapping, replacing, inserting and truncating.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sacrebleu.metrics import BLEU, CHRF

from danlu.errors import UsageError
from danlu.metrics import BleuScore, corpus_bleu, sacrebleu_scores, sentence_bleu
from danlu.metrics.bleu import SMOOTHING, sacrebleu_tokenizer

TOL = 1e-9
Refs = list[list[list[str]]]  # per sentence, its references, each a token list


# ---- sacreBLEU on the same tokens ---------------------------------------------------------


def _streams(references: Refs) -> list[list[str | None]]:
    """Per-sentence reference lists -> sacreBLEU's reference streams (None: no such ref)."""
    k = max(len(refs) for refs in references)
    return [[" ".join(refs[j]) if j < len(refs) else None for refs in references] for j in range(k)]


def _sacre_corpus(hyps: list[list[str]], references: Refs, **options) -> object:
    bleu = BLEU(tokenize="none", force=True, **options)  # force: tokenized input is meant
    return bleu.corpus_score([" ".join(h) for h in hyps], _streams(references))


def _assert_same(ours: BleuScore, theirs, add_k: bool = False) -> None:
    assert ours.score == pytest.approx(theirs.score, abs=TOL, rel=0)
    assert ours.bp == pytest.approx(theirs.bp, abs=TOL, rel=0)
    assert ours.ratio == pytest.approx(theirs.ratio, abs=TOL, rel=0)
    assert ours.precisions == pytest.approx(theirs.precisions, abs=TOL, rel=0)
    assert (ours.hyp_len, ours.ref_len) == (theirs.sys_len, theirs.ref_len)
    if not add_k:  # sacreBLEU returns its add-k counts with k already added
        assert list(ours.counts) == list(theirs.counts)
        assert list(ours.totals) == list(theirs.totals)


# ---- real data: Tatoeba pairs and perturbed hypotheses ------------------------------------


def _tokenize(text: str, lang: str) -> list[str]:
    if lang == "zh":
        return [ch for ch in text if not ch.isspace()]
    return re.findall(r"\w+|[^\w\s]", text)


def _perturb(tokens: list[str], vocab: list[str], rng: random.Random) -> list[str]:
    """A plausible bad translation: a few edits, sometimes a cut or nothing at all."""
    out = list(tokens)
    roll = rng.random()
    if roll < 0.05:
        return []
    if roll < 0.15:
        return out  # a perfect hypothesis
    if roll < 0.25:
        return out[: rng.randint(1, max(1, len(out) // 2))]  # short: brevity penalty
    for _ in range(rng.randint(1, 4)):
        op, i = rng.choice("drsid"), rng.randrange(len(out) + 1)
        if op == "d" and i < len(out):
            del out[i]
        elif op == "s" and i + 1 < len(out):
            out[i], out[i + 1] = out[i + 1], out[i]
        elif op == "r" and i < len(out):
            out[i] = rng.choice(vocab)
        elif op == "i":
            out.insert(i, rng.choice(vocab))
        elif op == "d" or op == "s":
            out.append(rng.choice(vocab))  # too long: no brevity penalty
    return out


@pytest.fixture(scope="module")
def tatoeba(shared_data: Path) -> dict[str, list[list[str]]]:
    """500 random Tatoeba pairs, tokenized: English words, Chinese characters."""
    path = shared_data / "cmn-eng" / "train.tsv"
    if not path.is_file():
        pytest.skip(f"Tatoeba pairs not found at {path}")
    lines = path.read_text(encoding="utf-8").splitlines()
    pairs = [line.split("\t")[:2] for line in random.Random(17).sample(lines, 500)]
    return {
        "en": [_tokenize(en, "en") for en, _ in pairs],
        "zh": [_tokenize(zh, "zh") for _, zh in pairs],
    }


def _corpus(
    sentences: list[list[str]], seed: int, n_refs: int | tuple[int, int] = 1
) -> tuple[list[list[str]], Refs]:
    """Hypotheses perturbed from the sentences; references: the sentence and more perturbed
    copies (``n_refs`` of them, or a random number in the range)."""
    rng = random.Random(seed)
    vocab = sorted({t for s in sentences for t in s})
    hyps, refs = [], []
    for s in sentences:
        k = n_refs if isinstance(n_refs, int) else rng.randint(*n_refs)
        refs.append([s] + [_perturb(s, vocab, rng) or s for _ in range(k - 1)])
        hyps.append(_perturb(s, vocab, rng))
    return hyps, refs


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("max_n", [4, 1, 2, 6])
def test_corpus_bleu_equals_sacrebleu_on_tatoeba(tatoeba, lang: str, max_n: int) -> None:
    hyps, refs = _corpus(tatoeba[lang], seed=max_n)
    ours = corpus_bleu(hyps, refs, max_n=max_n)
    _assert_same(ours, _sacre_corpus(hyps, refs, max_ngram_order=max_n))
    assert 10 < ours.score < 90 and len(ours.precisions) == max_n


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("n_refs", [3, (1, 4)], ids=["three-refs", "one-to-four-refs"])
def test_several_references_equal_sacrebleu(tatoeba, lang: str, n_refs) -> None:
    hyps, refs = _corpus(tatoeba[lang], seed=7, n_refs=n_refs)
    ours = corpus_bleu(hyps, refs)
    _assert_same(ours, _sacre_corpus(hyps, refs))
    # more references can only raise the clipped counts
    assert ours.score >= corpus_bleu(hyps, [r[:1] for r in refs]).score


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("smooth", list(SMOOTHING))
@pytest.mark.parametrize("effective_order", [True, False])
def test_sentence_bleu_equals_sacrebleu_on_tatoeba(
    tatoeba, lang: str, smooth: str, effective_order: bool
) -> None:
    hyps, refs = _corpus(tatoeba[lang][:150], seed=3, n_refs=(1, 2))
    bleu = BLEU(tokenize="none", smooth_method=smooth, effective_order=effective_order)
    for hyp, rs in zip(hyps, refs, strict=True):
        ours = sentence_bleu(hyp, rs, smooth=smooth, effective_order=effective_order)
        theirs = bleu.sentence_score(" ".join(hyp), [" ".join(r) for r in rs])
        _assert_same(ours, theirs, add_k=smooth == "add-k")


# ---- hand-made cases ----------------------------------------------------------------------


def test_papineni_modified_unigram_precision() -> None:
    """The paper's example: 'the' x7 against two references clips to 2/7."""
    s = corpus_bleu(
        ["the the the the the the the"], [["the cat is on the mat", "there is a cat on the mat"]]
    )
    assert s.counts[0] == 2 and s.totals[0] == 7
    assert s.precisions[0] == pytest.approx(100 * 2 / 7)
    assert s.counts[1:] == (0, 0, 0)  # no bigram matches: 0 unless smoothed
    assert corpus_bleu(["the the the"], [["the cat"]], smooth="none").score == 0.0


def test_closest_reference_length_ties_go_to_the_shorter() -> None:
    hyp = "a b c d e"
    s = corpus_bleu([hyp], [["a b c d", "a b c d e f"]])  # |5-4| == |5-6|
    assert s.ref_len == 4 and s.bp == 1.0
    s = corpus_bleu(["a b c"], [["a b c d e f g", "a b c d"]])  # 4 is the closest
    assert s.ref_len == 4
    assert s.bp == pytest.approx(math.exp(1 - 4 / 3), abs=1e-15)


def test_brevity_penalty_and_geometric_mean_by_hand() -> None:
    s = corpus_bleu(["the cat sat on the mat"], [["the cat sat on a mat"]])
    assert s.counts == (5, 3, 2, 1) and s.totals == (6, 5, 4, 3) and s.bp == 1.0
    expected = 100 * (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25
    assert s.score == pytest.approx(expected, abs=1e-12)


EDGE_CASES: dict[str, tuple[list[str], list[list[str]]]] = {
    "identical": (["a b c d e"], [["a b c d e"]]),
    "empty hypothesis": ([""], [["a b c"]]),
    "empty hypotheses and references": (["", ""], [[""], [""]]),
    "empty reference": (["a b"], [[""]]),
    "longer than reference": (["a b c d e f g h"], [["a b c d"]]),
    "shorter than reference": (["a b"], [["a b c d e f"]]),
    "zero matches": (["x y z w"], [["a b c d"]]),
    "unigrams only": (["d c b a"], [["a b c d"]]),
    "one token": (["a"], [["a"]]),
    "n larger than sentence": (["a b", "a b c"], [["a b"], ["a b c"]]),
    "repeated tokens clipped": (["a a a a a a"], [["a a b", "b a b a"]]),
    "one sentence empty": (["a b c d e", ""], [["a b c d e"], ["f g"]]),
    "no 4-gram match": (["a b c x d e f"], [["a b c d e f"]]),
    "several references": (["a b c d e f"], [["a b x d", "c d e f g h i"]]),
}


@pytest.mark.parametrize("smooth", list(SMOOTHING))
@pytest.mark.parametrize("effective_order", [False, True])
@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_edge_cases_equal_sacrebleu(case: str, smooth: str, effective_order: bool) -> None:
    hyps, refs = EDGE_CASES[case]
    options = {"smooth_method": smooth, "effective_order": effective_order}
    ours = corpus_bleu(hyps, refs, smooth=smooth, effective_order=effective_order)
    tok_refs = [[r.split() for r in rs] for rs in refs]
    theirs = _sacre_corpus([h.split() for h in hyps], tok_refs, **options)
    _assert_same(ours, theirs, add_k=smooth == "add-k")
    if len(hyps) == 1:
        bleu = BLEU(tokenize="none", **options)
        one = sentence_bleu(hyps[0], refs[0], smooth=smooth, effective_order=effective_order)
        _assert_same(one, bleu.sentence_score(hyps[0], refs[0]), add_k=smooth == "add-k")


def test_edge_case_values() -> None:
    assert corpus_bleu(*EDGE_CASES["identical"]).score == pytest.approx(100.0)
    empty = corpus_bleu(*EDGE_CASES["empty hypothesis"])
    assert (empty.score, empty.bp, empty.hyp_len, empty.totals) == (0.0, 0.0, 0, (0, 0, 0, 0))
    long = corpus_bleu(*EDGE_CASES["longer than reference"])
    # no penalty for length, only the precisions 4/8, 3/7, 2/6, 1/5 pay for the extra tokens
    assert long.bp == 1.0 and long.ratio == 2.0
    assert long.score == pytest.approx(100 * (4 / 8 * 3 / 7 * 2 / 6 * 1 / 5) ** 0.25, abs=TOL)
    assert corpus_bleu(*EDGE_CASES["zero matches"], smooth="add-k").score == 0.0
    # too short for 4-grams: 0 unless the effective order drops the missing orders
    short = EDGE_CASES["n larger than sentence"]
    assert corpus_bleu(*short, smooth="none").score == 0.0
    assert corpus_bleu(*short, effective_order=True).score == pytest.approx(100.0)


@pytest.mark.parametrize(("smooth", "value"), [("floor", 0.3), ("add-k", 0.5), ("add-k", 2)])
def test_smoothing_values_equal_sacrebleu(smooth: str, value: float) -> None:
    hyp, refs = "the cat sat on a red mat", ["the cat sat on the mat", "a cat was on the mat"]
    ours = sentence_bleu(hyp, refs, smooth=smooth, smooth_value=value)
    bleu = BLEU(tokenize="none", smooth_method=smooth, smooth_value=value, effective_order=True)
    _assert_same(ours, bleu.sentence_score(hyp, refs), add_k=True)


def test_exp_smoothing_by_hand() -> None:
    """mteval's smoothing: the k-th order without matches gets 1 / (2^k total)."""
    s = sentence_bleu("a b c x", ["a b c d"])  # 3/4, 2/3, 1/2, 0/1
    assert s.precisions == pytest.approx((75.0, 200 / 3, 50.0, 100 / 2))
    s = sentence_bleu("a x b y c", ["a b c"])  # 3/5, 0/4, 0/3, 0/2
    assert s.precisions == pytest.approx((60.0, 100 / 8, 100 / 12, 100 / 16))


@settings(max_examples=150, deadline=None)
@given(
    hyp=st.lists(st.sampled_from("abcd"), max_size=9),
    refs=st.lists(st.lists(st.sampled_from("abcde"), max_size=9), min_size=1, max_size=3),
    smooth=st.sampled_from(list(SMOOTHING)),
    effective_order=st.booleans(),
)
def test_random_small_sentences_equal_sacrebleu(hyp, refs, smooth, effective_order) -> None:
    ours = sentence_bleu(hyp, refs, smooth=smooth, effective_order=effective_order)
    bleu = BLEU(tokenize="none", smooth_method=smooth, effective_order=effective_order)
    theirs = bleu.sentence_score(" ".join(hyp), [" ".join(r) for r in refs])
    _assert_same(ours, theirs, add_k=smooth == "add-k")
    assert 0.0 <= ours.score <= 100.0 + TOL


# ---- input forms and errors ---------------------------------------------------------------


def test_input_forms_agree() -> None:
    strings = corpus_bleu(["a b c d e", "b c"], ["a b c d f", "b c d"])  # one ref each
    wrapped = corpus_bleu(["a b c d e", "b c"], [["a b c d f"], ["b c d"]])
    tokens = corpus_bleu([list("abcde"), list("bc")], [[list("abcdf")], [list("bcd")]])
    ids = corpus_bleu([[1, 2, 3, 4, 5], [2, 3]], [[(1, 2, 3, 4, 6)], [(2, 3, 4)]])
    assert strings == wrapped == tokens == ids
    sacre = _sacre_corpus([list("abcde"), list("bc")], [[list("abcdf")], [list("bcd")]])
    assert str(strings) == str(sacre)  # the same one-line report


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: corpus_bleu([], []), "no hypotheses"),
        (lambda: corpus_bleu(["a"], [["a"], ["b"]]), "1 hypotheses but 2 reference"),
        (lambda: corpus_bleu(["a"], [[]]), "sentence 0 has no reference"),
        (lambda: sentence_bleu(["a", "b"], ["a", "b"]), "list of token lists"),
        (lambda: corpus_bleu(["a"], ["a"], max_n=0), "max_n must be an integer >= 1"),
        (lambda: corpus_bleu(["a"], ["a"], smooth="add-one"), "valid: none, exp, floor, add-k"),
        (lambda: corpus_bleu(["a"], ["a"], smooth="floor", smooth_value=0), "must be > 0"),
    ],
)
def test_usage_errors(call, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        call()


# ---- the reported scores: sacreBLEU itself ------------------------------------------------

EN_HYPS = ["The cat sat on the mat.", "He didn't go to school today!", "I like tea."]
EN_REFS = ["The cat sat on a mat.", "He did not go to school today.", "I like green tea."]
ZH_HYPS = ["猫坐在垫子上。", "他今天没去学校!", "我喜欢茶。"]
ZH_REFS = ["猫坐在一块垫子上。", "他今天没有去上学。", "我喜欢绿茶。"]


@pytest.mark.parametrize(
    ("hyps", "refs", "lang", "tok"),
    [(EN_HYPS, EN_REFS, "en", "13a"), (ZH_HYPS, ZH_REFS, "zh", "zh")],
)
def test_sacrebleu_scores_are_sacrebleus(
    hyps: Sequence[str], refs: Sequence[str], lang: str, tok: str
) -> None:
    got = sacrebleu_scores(hyps, refs, lang)
    bleu = BLEU(tokenize=tok).corpus_score(list(hyps), [list(refs)])
    chrf = CHRF().corpus_score(list(hyps), [list(refs)])
    assert got["bleu"] == bleu.score and got["chrf"] == chrf.score
    assert got["bleu_precisions"] == bleu.precisions and got["bleu_bp"] == bleu.bp
    assert (got["hyp_len"], got["ref_len"]) == (bleu.sys_len, bleu.ref_len)
    assert f"tok:{tok}" in got["bleu_signature"] and "nrefs:1" in got["bleu_signature"]
    assert "nc:6" in got["chrf_signature"]
    assert got["bleu_line"].startswith(f"BLEU|{got['bleu_signature']} = ")
    assert got["chrf_line"].startswith(f"chrF2|{got['chrf_signature']} = ")
    assert 0 < got["bleu"] < 100 and json.loads(json.dumps(got)) == got


def test_sacrebleu_13a_differs_from_none_on_detokenized_english() -> None:
    """Why reported scores come from sacreBLEU: 13a splits off punctuation itself."""
    ours_on_raw = corpus_bleu(EN_HYPS, EN_REFS).score  # whitespace tokens: "mat." etc.
    assert sacrebleu_scores(EN_HYPS, EN_REFS, "en")["bleu"] != pytest.approx(ours_on_raw)


@pytest.mark.parametrize(
    ("lang", "tok"),
    [
        ("en", "13a"),
        ("EN", "13a"),
        ("de", "13a"),
        ("zh", "zh"),
        ("zh-CN", "zh"),
        ("zh_TW", "zh"),
        ("cmn", "zh"),
    ],
)
def test_sacrebleu_tokenizer(lang: str, tok: str) -> None:
    assert sacrebleu_tokenizer(lang) == tok


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([], [], "en"), "no hypotheses"),
        ((["a"], ["a", "b"], "en"), "1 hypotheses but 2 references"),
        (([["a", "b"]], ["a b"], "en"), r"hypotheses\[0\] is list, not a string"),
        ((["a"], ["a"], ""), "language code"),
    ],
)
def test_sacrebleu_scores_usage_errors(args, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        sacrebleu_scores(*args)
