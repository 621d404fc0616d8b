"""A `Seq2Seq` model as one `.tflite` file with two signatures, and the LiteRT translator that runs it.

Decoding is a loop, so the file holds the two graphs the loop calls: `encode` (source ids →
decoder start state) once per input, and `step` (previous tokens and state → log p(y_t), next
state, α_t) once per output token. `Translator` drives them with the same greedy and beam
search as the Keras model (`zoo.decoding`), with NumPy and LiteRT only; the vocabularies come
from the sidecar `FILE.tflite.json` written beside the file.

    report = to_tflite_translator(model, "dates.tflite", check_texts=test_sources[:200])
    Translator("dates.tflite").translate(["22 novembre 2026"], beam_size=3)[0]["text"]
"""

import numpy as np

from export import decoding_loop
from zoo import decoding
from zoo.vocabulary import Vocabulary


def signatures(model):
    """The loop's graphs: name -> (function, input signature) for `encode` and `step`."""
    import tensorflow as tf

    L, d, memory_dim = model.max_source_len, 2 * model.units, 2 * model.units
    # One text per `encode` call: the encoder GRU's loop lowers to builtin ops only at a fixed batch.
    encode = (lambda source: model.encode(source), [tf.TensorSpec((1, L), tf.int32, name="source")])
    spec = [
        tf.TensorSpec((None,), tf.int32, name="tokens"),
        tf.TensorSpec((None, d), tf.float32, name="s"),
        tf.TensorSpec((None, d), tf.float32, name="feed"),
        tf.TensorSpec((None, L, memory_dim), tf.float32, name="memory"),
        tf.TensorSpec((None, L), tf.float32, name="mask"),
        tf.TensorSpec((), tf.int32, name="t"),
    ]

    def step(tokens, s, feed, memory, mask, t):
        p, state, alpha = model.step(tokens, {"s": s, "feed": feed, "memory": memory, "mask": mask}, t)
        return {"log_probs": tf.math.log(tf.maximum(p, 1e-30)), "s": state["s"], "feed": state["feed"], "alignment": alpha}

    return {"encode": encode, "step": (step, spec)}


def convert(model, quantize=None):
    """TFLite bytes with the signatures `encode` and `step` (builtin ops only)."""
    return decoding_loop.convert("translator", signatures(model), quantize)


class Translator(decoding_loop.Driver):
    """Greedy / beam-search decoding of an exported translator on LiteRT (no TensorFlow)."""

    kind, method = "translator", "translate"

    @staticmethod
    def metadata(model):
        """What the translator needs besides the graphs: vocabularies and lengths."""
        return {
            "source_tokens": model.source_vocab.tokens,
            "target_tokens": model.target_vocab.tokens,
            "level": model.source_vocab.level,
            "max_source_len": model.max_source_len,
            "max_target_len": model.max_target_len,
        }

    def setup(self, meta):
        self.source_vocab = Vocabulary(meta["source_tokens"], meta["level"])
        self.target_vocab = Vocabulary(meta["target_tokens"], meta["level"])

    def encode(self, texts):
        """The decoder start state of `texts`, encoded one at a time (the `encode` graph takes one)."""
        ids = self.source_vocab.encode(texts, self.meta["max_source_len"])
        states = [self.encoder(source=row[None]) for row in ids]
        return {k: np.concatenate([state[k] for state in states]) for k in states[0]}

    def step(self, tokens, state, t):
        inputs = {"tokens": tokens, "t": np.asarray(t, np.int32), **state}
        out = self.decoder(**{k: v for k, v in inputs.items() if k in self.decoder.input_names})
        return out["log_probs"], {**state, "s": out["s"], "feed": out["feed"]}, out["alignment"]

    def translate(self, texts, beam_size=1, alpha=1.0, batch_size=256):
        """As `Seq2Seq.translate`: a dict {text, tokens, score, alignments} per input text."""
        if isinstance(texts, str):
            texts = [texts]
        self.source_vocab.check_readable(texts)
        results = []
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            results += decoding.translate(self.step, self.encode(batch), batch, self.source_vocab, self.target_vocab,
                                          self.meta["max_target_len"], beam_size, alpha)
        return results



def to_tflite_translator(model, path, check_texts, quantize=None, atol=1e-4, extra_metadata=None):
    """Export `model` to `path` (+ sidecar `path.json` with the vocabularies), kept only if LiteRT
    decodes `check_texts` as Keras does. Returns the checks."""
    return decoding_loop.to_tflite(Translator, signatures(model), model, path, check_texts, quantize, atol, extra_metadata)


def to_saved_model_translator(model, path, check_texts, atol=1e-4, extra_metadata=None):
    """`model`'s `encode` and `step` as a SavedModel directory at `path` (+ sidecar `path.json`),
    kept only if `Translator` running its signatures decodes `check_texts` as Keras does."""
    return decoding_loop.to_saved_model(Translator, signatures(model), model, path, check_texts, atol, extra_metadata)
