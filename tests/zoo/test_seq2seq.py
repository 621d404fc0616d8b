"""Seq2Seq and its decoding: alignments, masks, greedy vs beam, teacher forcing, fit, bad input (the
`.keras` round trip is in test_conformance)."""

import keras
import numpy as np
import pytest

import zoo
from recipes.data import dates
from zoo import decoding
from zoo.vocabulary import Vocabulary

KINDS = ("bahdanau", "luong_dot", "luong_general", "luong_concat", "local_m", "local_p", "none")
SMALL = {"embedding_dim": 8, "units": 8, "attention_units": 8, "window": 3, "max_source_len": 16, "max_target_len": 11}
TEXTS = ["22 nov 2026", "1/2/03", "Sonntag, 22. Nov 2026"[:16]]


def model(kind="bahdanau", **kw):
    keras.utils.set_random_seed(0)
    tokens = Vocabulary.build(TEXTS + ["abcdefghijklmnopqrstuvwxyz ,./"]).tokens
    return zoo.load("seq2seq", weights=None, source_tokens=tokens, attention=kind, **{**SMALL, **kw})


def forced(m, texts=TEXTS, targets=("2026-11-22", "2003-02-01", "2026-11-22")):
    return m.teacher_forcing(list(texts), list(targets))


def test_vocabulary_encodes_decodes_and_refuses_long_texts():
    vocab = Vocabulary.build(["2026-11-22"])
    ids = vocab.encode(["2026-11-22", "9x"], length=12, bos=True, eos=True)
    assert ids.dtype == np.int32 and ids[0, 0] == vocab.bos_id and ids[0, 11] == vocab.eos_id
    assert vocab.decode(ids[0, 1:]) == "2026-11-22"
    assert ids[1, 2] == vocab.unk_id and vocab.unknown("9x") == ["9", "x"] and ids[1, 4] == vocab.pad_id
    with pytest.raises(ValueError, match="at most 5"):
        vocab.encode(["2026-11-22"], length=5)
    with pytest.raises(ValueError, match="unique"):
        Vocabulary(["a", "a"])


@pytest.mark.parametrize("kind", KINDS)
def test_probabilities_and_alignments(kind):
    m = model(kind)
    x, _ = forced(m)
    probs, alpha = m(x, return_alignments=True)
    probs, alpha = np.asarray(probs), np.asarray(alpha)
    assert probs.shape == (3, 11, len(m.target_vocab)) and alpha.shape == (3, 11, 16)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    valid = x["source"] != 0
    assert np.all(alpha[np.broadcast_to(~valid[:, None], alpha.shape)] == 0), "attention on padding"
    sums = alpha.sum(-1)
    if kind == "none":
        assert np.all(alpha == 0)
    elif kind == "local_p":  # the Gaussian is applied after the softmax (Luong et al.): α sums to ≤ 1
        assert np.all(sums <= 1 + 1e-5) and np.all(sums > 0)
    elif kind == "local_m":  # p_t = t: a window past the end of a short source holds nothing
        lengths = valid.sum(-1)[:, None]
        reaches = np.arange(11)[None, :] - m.window < lengths
        np.testing.assert_allclose(sums, np.where(reaches, 1.0, 0.0), atol=1e-5)
    else:
        np.testing.assert_allclose(sums, 1.0, atol=1e-5)


def test_local_m_attends_only_inside_the_window():
    m = model("local_m")
    _, alpha = m(forced(m)[0], return_alignments=True)
    alpha = np.asarray(alpha)
    for t in range(alpha.shape[1]):
        outside = np.abs(np.arange(16) - t) > m.window
        assert np.all(alpha[:, t, outside] == 0)


def test_padding_does_not_change_the_output():
    m = model("luong_general")
    x, _ = forced(m, TEXTS[:2], ["2026-11-22", "2003-02-01"])
    short = {"source": x["source"][:, :12], "target_in": x["target_in"]}
    assert np.all(x["source"][:, 12:] == 0)
    np.testing.assert_allclose(np.asarray(m(short)), np.asarray(m(x)), atol=1e-5)


def toy_step(table):
    """A step whose log p(y_t) depends only on the previous token: table[prev] (V,)."""
    def step(tokens, state, t):
        return np.log(table[tokens]), state, np.ones((len(tokens), 1))
    return step


def test_beam_finds_what_greedy_misses_and_beam_one_is_greedy():
    # From <s>(2): token 4 (0.6) leads to a flat 0.25 split; token 5 (0.4) leads to </s>(3) with 0.99.
    table = np.full((6, 6), 1e-6)
    table[2, 4], table[2, 5] = 0.6, 0.4
    table[4, [0, 1, 4, 5]] = 0.25
    table[5, 3] = 0.99
    table[[0, 1, 3], 3] = 1.0
    table /= table.sum(-1, keepdims=True)
    args = (toy_step(table), {"h": np.zeros((1, 1))}, 1, 2, 3, 4)
    greedy = decoding.greedy(*args)[0]
    beam1 = decoding.beam_search(*args, beam_size=1, alpha=0.0)[0]
    beam = decoding.beam_search(*args, beam_size=2, alpha=0.0)[0]
    assert greedy.tokens[0] == 4 and beam1.tokens == greedy.tokens
    assert beam.tokens == [5] and beam.score > greedy.score


def test_keras_beam_one_equals_greedy_and_decoding_matches_teacher_forcing():
    m = model("bahdanau")
    greedy = m.translate(TEXTS)
    beam1 = m.translate(TEXTS, beam_size=1)
    assert [g["text"] for g in greedy] == [b["text"] for b in beam1]
    # Feeding the greedy output back with teacher forcing gives the same per-step probabilities.
    for text, result in zip(TEXTS, greedy):
        ids = [m.target_vocab.stoi[t] for t in result["tokens"]]
        target_in = np.zeros((1, m.max_target_len), np.int32)
        target_in[0, : len(ids) + 1] = [m.target_vocab.bos_id, *ids][: m.max_target_len]
        probs = np.asarray(m({"source": m.source_vocab.encode([text], m.max_source_len), "target_in": target_in}))[0]
        steps = len(result["alignments"])
        chosen = [*ids, m.target_vocab.eos_id][:steps]
        np.testing.assert_allclose(np.log(probs[np.arange(steps), chosen]).sum(), result["score"], rtol=1e-4, atol=1e-4)
        assert np.all(np.argmax(probs[:steps], -1) == chosen)


def test_tiny_fit_reduces_the_loss():
    m = model("luong_general")
    sources, targets = dates.load("train", limit=128)
    sources = [s[:16] for s in sources]
    x, y = m.teacher_forcing(sources, targets)
    m.compile(keras.optimizers.Adam(1e-2))
    losses = m.fit(x, y, batch_size=32, epochs=8, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.8 * losses[0]


def test_bad_inputs_are_refused_with_what_was_expected():
    m = model()
    x, _ = forced(m)
    with pytest.raises(ValueError, match="translate"):
        m(x["source"])
    with pytest.raises(ValueError, match="integer token ids"):
        m({"source": x["source"].astype("float32"), "target_in": x["target_in"]})
    with pytest.raises(ValueError, match=r"≤16"):
        m({"source": np.ones((1, 20), "int32"), "target_in": x["target_in"]})
    with pytest.raises(ValueError, match="at most 16"):
        m.translate(["a date far longer than sixteen characters"])
    with pytest.raises(ValueError, match="attention must be one of"):
        model("bahdanau_v2")


def test_the_pretrained_translator_is_confident_on_dates_and_not_on_other_text():
    translator = zoo.load("seq2seq")
    dates, others = translator.translate(["dimanche 22 novembre 2026", "3/4/1999"]), translator.translate(
        ["hello world", "banana"])
    assert min(r["confidence"] for r in dates) > 0.7 > max(r["confidence"] for r in others)  # the documented threshold
    with pytest.raises(ValueError, match="empty or only spaces"):
        translator.translate(["   "])
    with pytest.raises(ValueError, match="mostly in the model's vocabulary"):
        translator.translate(["🎉🎉"])


def test_word_level_vocabularies_keep_the_most_frequent_words():
    texts = ["o gato", "o cão", "o gato preto"]
    vocab = Vocabulary.build(texts, level="word", max_size=2)
    assert vocab.tokens == ["gato", "o"] and vocab.unknown("o cão") == ["cão"]
    keras.utils.set_random_seed(0)
    m = zoo.load("seq2seq", weights=None, source_tokens=vocab.tokens, target_tokens=["a", "cat", "the"], level="word",
                 **{**SMALL, "max_target_len": 4})
    out = m.translate(["o gato"], beam_size=2)[0]
    assert set(out["text"].split()) <= {"a", "cat", "the"} and out["alignments"].shape[1] == 2


def test_a_low_ranked_early_end_does_not_stop_the_search():
    # From <s>(2): 4 (0.5), 5 (0.3), </s>(3) (0.2); then 4 → </s> with 0.99. The best output is [4].
    table = np.full((6, 6), 1e-6)
    table[2, [4, 5, 3]] = 0.5, 0.3, 0.2
    table[[4, 5], 3] = 0.99
    table[[0, 1, 3], 3] = 1.0
    table /= table.sum(-1, keepdims=True)
    args = (toy_step(table), {"h": np.zeros((1, 1))}, 1, 2, 3, 4)
    for beam_size in (1, 2, 3):
        assert decoding.beam_search(*args, beam_size=beam_size, alpha=0.0)[0].tokens == [4]
