"""Greedy and beam-search decoding over a decoder step, a generator's noise, and text sampling, in NumPy.

The same code drives the Keras models (`Seq2Seq.translate`, `ShowAttendTell.caption`,
`Draw.generate`, `GridLSTMLanguageModel.complete`, `Handwriting.write`'s stopping rule) and their
exported LiteRT files (`export.seq2seq`, `export.captioner`, `export.stroke_writer`, `zoo predict` on a
DRAW or language-model `.tflite`),
so the two decode identically. Imports NumPy only.

A step is `step(tokens, state, t) -> (log_probs, state, alignment)`: tokens (N,) the previous
output, `state` a dict of arrays with leading dimension N, t the step index; log_probs (N, V),
alignment (N, L). A hypothesis ends at `eos_id`; its tokens exclude it.
"""

import dataclasses

import numpy as np


@dataclasses.dataclass
class Hypothesis:
    tokens: list  # output ids, without <s> and </s>
    score: float  # Σ log p, divided by length^alpha in beam search
    alignments: np.ndarray  # (steps, L): α of every emitted token, </s> included when emitted
    log_prob: float  # Σ log p: log of the output's probability under the model


def greedy(step, state, batch_size, bos_id, eos_id, max_len):
    """y_t = argmax p(y | y_<t, x) until </s> or `max_len` tokens; one Hypothesis per example."""
    tokens = np.full(batch_size, bos_id, np.int32)
    done = np.zeros(batch_size, bool)
    outputs, scores, alignments = [], np.zeros(batch_size), []
    for t in range(max_len):
        log_probs, state, alignment = step(tokens, state, t)
        tokens = np.argmax(log_probs, -1).astype(np.int32)
        scores += np.where(done, 0.0, log_probs[np.arange(batch_size), tokens])
        outputs.append(tokens)
        alignments.append(alignment)
        done |= tokens == eos_id
        if done.all():
            break
    outputs, alignments = np.stack(outputs, 1), np.stack(alignments, 1)
    hypotheses = []
    for b in range(batch_size):
        ends = np.flatnonzero(outputs[b] == eos_id)
        n = int(ends[0]) if len(ends) else outputs.shape[1]
        steps = n + 1 if len(ends) else n
        hypotheses.append(Hypothesis(outputs[b, :n].tolist(), float(scores[b]), alignments[b, :steps], float(scores[b])))
    return hypotheses


def beam_search(step, state, batch_size, bos_id, eos_id, max_len, beam_size=3, alpha=1.0):
    """Beam search with length normalisation: the best hypothesis by Σ log p / |y|^alpha.

    |y| counts </s>. Each example keeps `beam_size` live hypotheses. A candidate ending in </s>
    is finished when it ranks among the top `beam_size` candidates of its step (a low-ranked
    early </s> must not crowd out better, longer hypotheses). The search runs until no live
    hypothesis is left or `max_len` steps (then live hypotheses compete too); the best
    finished hypothesis by normalised score wins.
    """
    K = beam_size
    if K < 1:
        raise ValueError(f"beam_size must be at least 1; got {beam_size}")
    state = {name: np.repeat(value, K, axis=0) for name, value in state.items()}  # (B·K, ...)
    tokens = np.full((batch_size, K), bos_id, np.int32)
    scores = np.full((batch_size, K), -np.inf)
    scores[:, 0] = 0.0  # one live hypothesis to start: the others are copies
    history = np.zeros((batch_size, K, 0), np.int32)
    aligned = None
    finished = [[] for _ in range(batch_size)]

    def normalised(score, length):
        return score / (length**alpha)

    for t in range(max_len):
        log_probs, state, alignment = step(tokens.reshape(-1), state, t)
        vocab = log_probs.shape[-1]
        alignment = alignment.reshape(batch_size, K, 1, -1)
        aligned = alignment if aligned is None else np.concatenate([aligned, alignment], 2)
        total = (scores[..., None] + log_probs.reshape(batch_size, K, vocab)).reshape(batch_size, -1)
        order = np.argsort(-total, axis=1, kind="stable")[:, : 2 * K]
        parents = np.zeros((batch_size, K), np.int64)
        new_tokens = np.full((batch_size, K), eos_id, np.int32)
        new_scores = np.full((batch_size, K), -np.inf)
        for b in range(batch_size):
            live = 0
            for rank, flat in enumerate(order[b]):
                parent, token, score = flat // vocab, int(flat % vocab), float(total[b, flat])
                if not np.isfinite(score):
                    break
                if token == eos_id:
                    if rank < K:
                        seq = history[b, parent].tolist()
                        finished[b].append(Hypothesis(seq, normalised(score, t + 1), aligned[b, parent].copy(), score))
                elif live < K:
                    parents[b, live], new_tokens[b, live], new_scores[b, live] = parent, token, score
                    live += 1
                if live == K:
                    break
        rows = (np.arange(batch_size)[:, None] * K + parents).reshape(-1)
        state = {name: value[rows] for name, value in state.items()}
        history = np.concatenate([history[np.arange(batch_size)[:, None], parents], new_tokens[..., None]], 2)
        aligned = aligned[np.arange(batch_size)[:, None], parents]
        tokens, scores = new_tokens, new_scores
        if not np.isfinite(scores).any():
            break
    best = []
    for b in range(batch_size):
        candidates = list(finished[b])
        if np.isfinite(scores[b]).any():  # out of steps: unfinished hypotheses compete without </s>
            steps = history.shape[2]
            candidates += [
                Hypothesis(history[b, k].tolist(), normalised(scores[b, k], steps), aligned[b, k], float(scores[b, k]))
                for k in range(K)
                if np.isfinite(scores[b, k])
            ]
        best.append(max(candidates, key=lambda h: h.score))
    return best


def search(step, state, batch_size, vocab, max_len, beam_size=1, alpha=1.0):
    """From <s>: `greedy` when beam_size is 1, else `beam_search`; one Hypothesis per example."""
    args = (step, state, batch_size, vocab.bos_id, vocab.eos_id, max_len)
    return greedy(*args) if beam_size == 1 else beam_search(*args, beam_size, alpha)


def translate(step, state, texts, source_vocab, target_vocab, max_len, beam_size=1, alpha=1.0):
    """Decode a batch of `texts` from its encoder `state`: one dict per text with the output
    `text`, its `tokens`, `score`, `confidence` (the output's probability under the model, Π p(y_t | y_<t, x):
    low for a text the model cannot read, `benchmarks/translator_confidence.py`) and `alignments`
    (steps, source tokens)."""
    hypotheses = search(step, state, len(texts), target_vocab, max_len, beam_size, alpha)
    return [
        {
            "text": target_vocab.decode(h.tokens),
            "tokens": [target_vocab.itos[i] for i in h.tokens],
            "score": h.score,
            "confidence": float(np.exp(h.log_prob)),
            "alignments": h.alignments[:, : len(source_vocab.split(text, source_vocab.level))],
        }
        for text, h in zip(texts, hypotheses)
    ]


def caption(step, state, vocab, max_len, grid, beam_size=1, alpha=1.0):
    """Decode captions from a batch's encoder `state`: one dict per image with the caption `text`,
    its `words`, `score` and `attention` (emitted steps, *grid): α over the annotation grid at
    every word and at </s>. A caption never holds <pad>, <unk> or <s>: their log p is −∞."""
    batch_size = len(next(iter(state.values())))
    banned = [vocab.pad_id, vocab.unk_id, vocab.bos_id]

    def words_only(tokens, state, t):
        log_probs, state, alignment = step(tokens, state, t)
        log_probs = np.array(log_probs)
        log_probs[:, banned] = -np.inf
        return log_probs, state, alignment

    return [
        {"text": vocab.decode(h.tokens), "words": [vocab.itos[i] for i in h.tokens], "score": h.score,
         "attention": h.alignments.reshape(len(h.alignments), *grid)}
        for h in search(words_only, state, batch_size, vocab, max_len, beam_size, alpha)
    ]


def standard_noise(n, steps, latent_dim, seed=0):
    """A generator's input: n × (steps, latent_dim) standard normal float32 numbers from `seed`
    (an int or a sequence of ints, as `np.random.default_rng` takes)."""
    return np.random.default_rng(seed).standard_normal((int(n), steps, latent_dim)).astype("float32")


def continue_text(next_probabilities, ids, tokens, context, pad_id, length, temperature=1.0, seed=0):
    """The `length` tokens that follow `ids`, as text: each step reads the last `context` ids (left-padded
    with `pad_id`) through `next_probabilities(window int32 (1, context)) → p (V,)` and samples
    p^(1/temperature), renormalised (seeded); temperature 0 takes the argmax."""
    if not temperature >= 0 or int(length) < 0:  # `not >=` refuses NaN too
        raise ValueError(f"expected temperature ≥ 0 and length ≥ 0; got temperature {temperature}, length {length}")
    rng = np.random.default_rng(seed)
    ids, text = [int(i) for i in ids], []
    for _ in range(int(length)):
        window = np.array([([pad_id] * context + ids)[-context:]], np.int32)
        p = np.asarray(next_probabilities(window), np.float64)
        if temperature == 0:
            k = int(np.argmax(p))
        else:
            logits = np.log(np.maximum(p, 1e-30)) / temperature
            p = np.exp(logits - logits.max())
            k = int(rng.choice(len(p), p=p / p.sum()))
        ids.append(k)
        text.append(tokens[k])
    return "".join(text)


def passed_end(phi, phi_end):
    """Graves' stopping rule for writing (2013, section 5.2): φ(t, U + 1) > φ(t, u) for every u ≤ U,
    per row of φ (B, U) (0 at padded u) and φ(t, U + 1) (B,); the same for `Handwriting.write` and
    the LiteRT `export.stroke_writer.Writer`."""
    return np.asarray(phi_end) > np.asarray(phi).max(-1)
