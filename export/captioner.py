"""A `ShowAttendTell` model as one `.tflite` file with two signatures, and the LiteRT captioner that runs it.

Captioning is a loop, so the file holds the two graphs the loop calls: `encode` (images → the
decoder's start state: h, c, the annotations and their projection W_a a) once per image, and
`step` (previous words and state → log p(y_t), next h and c, α_t) once per word. `Captioner`
drives them with the same greedy and beam search as the Keras model (`zoo.decoding`), with
NumPy and LiteRT only; the vocabulary and grid come from the sidecar `FILE.tflite.json`.

    report = to_tflite_captioner(model, "captioner.tflite", check_images=test_images[:100])
    Captioner("captioner.tflite").caption(images, beam_size=3)[0]["text"]
"""

import numpy as np

from export import decoding_loop
from zoo import decoding
from zoo.vocabulary import Vocabulary


def signatures(model):
    """The loop's graphs: name -> (function, input signature) for `encode` and `step` (any batch size)."""
    import tensorflow as tf

    state = model.encode(np.zeros((1, *model.image_shape), np.float32))
    spec = [tf.TensorSpec((None,), tf.int32, name="tokens")] + [
        tf.TensorSpec((None, *state[k].shape[1:]), tf.float32, name=k) for k in sorted(state)
    ]
    names = sorted(state)

    def step(tokens, *values):
        p, new, alpha, _ = model.step(tokens, dict(zip(names, values)))
        return {"log_probs": tf.math.log(tf.maximum(p, 1e-30)), "h": new["h"], "c": new["c"], "alignment": alpha}

    images = [tf.TensorSpec((None, *model.image_shape), tf.float32, name="images")]
    return {"encode": (model.encode, images), "step": (step, spec)}


def convert(model, quantize=None):
    """TFLite bytes with the signatures `encode` and `step` (builtin ops only, any batch size)."""
    return decoding_loop.convert("captioner", signatures(model), quantize)


class Captioner(decoding_loop.Driver):
    """Greedy / beam-search captioning of an exported `ShowAttendTell` on LiteRT (no TensorFlow)."""

    kind, method = "captioner", "caption"

    @staticmethod
    def metadata(model):
        """What the captioner needs besides the graphs: vocabulary, caption length, attention grid."""
        return {"tokens": model.vocab.tokens, "max_len": model.max_len, "grid": list(model.grid),
                "image_shape": list(model.image_shape), "attention": model.attention_kind}

    def setup(self, meta):
        self.vocab = Vocabulary(meta["tokens"], "word")

    def step(self, tokens, state, t):
        out = self.decoder(tokens=tokens, **state)
        return out["log_probs"], {**state, "h": out["h"], "c": out["c"]}, out["alignment"]

    def caption(self, images, beam_size=3, alpha=1.0, batch_size=256):
        """As `ShowAttendTell.caption`: a dict {text, words, score, attention} per image."""
        images = np.asarray(images, np.float32)
        expected = tuple(self.meta["image_shape"])
        if images.ndim != 4 or images.shape[1:] != expected:
            raise ValueError(f"expected float images (batch, {', '.join(map(str, expected))}) in [0, 1]; got {images.shape}")
        results = []
        for start in range(0, len(images), batch_size):
            state = self.encoder(images=images[start : start + batch_size])
            results += decoding.caption(self.step, state, self.vocab, self.meta["max_len"] + 1, tuple(self.meta["grid"]),
                                        beam_size, alpha)
        return results



def to_tflite_captioner(model, path, check_images, quantize=None, atol=1e-4, extra_metadata=None):
    """Export `model` to `path` (+ sidecar `path.json` with the vocabulary), kept only if LiteRT
    captions `check_images` as Keras does. Returns the checks."""
    return decoding_loop.to_tflite(Captioner, signatures(model), model, path, check_images, quantize, atol, extra_metadata)


def to_saved_model_captioner(model, path, check_images, atol=1e-4, extra_metadata=None):
    """`model`'s `encode` and `step` as a SavedModel directory at `path` (+ sidecar `path.json`),
    kept only if `Captioner` running its signatures captions `check_images` as Keras does."""
    return decoding_loop.to_saved_model(Captioner, signatures(model), model, path, check_images, atol, extra_metadata)
