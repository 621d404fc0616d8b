"""A `ShowAttendTell` model as one `.tflite` file with two signatures, and the LiteRT captioner that runs it.

Captioning is a loop, so the file holds the two graphs the loop calls: `encode` (images → the
decoder's start state: h, c, the annotations and their projection W_a a) once per image, and
`step` (previous words and state → log p(y_t), next h and c, α_t) once per word. `Captioner`
drives them with the same greedy and beam search as the Keras model (`zoo.decoding`), with
NumPy and LiteRT only; the vocabulary and grid come from the sidecar `FILE.tflite.json`.

    report = to_tflite_captioner(model, "captioner.tflite", check_images=test_images[:100])
    Captioner("captioner.tflite").caption(images, beam_size=3)[0]["text"]
"""

import json
from pathlib import Path

import numpy as np

from export.runtime import Runtime
from export.tflite import convert_signatures, write_checked_decoder
from zoo import decoding
from zoo.vocabulary import Vocabulary

QUANTIZATIONS = (None, "float16", "dynamic")


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
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"a captioner exports as fp32, float16 or dynamic; got quantize={quantize!r} "
                         "(full int8 would quantize the LSTM state fed back at every step)")
    return convert_signatures(signatures(model), quantize)


def metadata(model):
    """What the captioner needs besides the graphs: vocabulary, caption length, attention grid."""
    return {"tokens": model.vocab.tokens, "max_len": model.max_len, "grid": list(model.grid),
            "image_shape": list(model.image_shape), "attention": model.attention_kind}


class Captioner:
    """Greedy / beam-search captioning of an exported `ShowAttendTell` on LiteRT (no TensorFlow)."""

    def __init__(self, path, meta=None, num_threads=None, signatures=None):
        """`path`: the `.tflite` file (its sidecar `path.json` holds `meta`); `signatures`: instead of
        LiteRT, a function name → runner (`export.saved_model.open_signatures` for a SavedModel)."""
        if meta is None:
            sidecar = Path(str(path) + ".json")
            if not sidecar.exists():
                raise FileNotFoundError(f"{sidecar} (the vocabulary written by the export) is missing")
            meta = json.loads(sidecar.read_text())["captioner"]
        self.meta = meta
        self.vocab = Vocabulary(meta["tokens"], "word")
        signatures = signatures or (lambda name: Runtime(path, num_threads=num_threads, signature=name))
        self.encoder, self.decoder = signatures("encode"), signatures("step")

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
    captions `check_images` as Keras does (`export.tflite.write_checked_decoder`). Returns the checks."""
    meta = metadata(model)

    def caption(captioner, images, beam_size):
        return (captioner or model).caption(images, beam_size=beam_size)

    return write_checked_decoder(path, convert(model, quantize), lambda file: Captioner(file, meta), caption,
                                 check_images, quantize, atol, {**(extra_metadata or {}), "captioner": meta})


def to_saved_model_captioner(model, path, check_images, atol=1e-4, extra_metadata=None):
    """`model`'s `encode` and `step` as a SavedModel directory at `path` (+ sidecar `path.json`),
    kept only if `Captioner` running its signatures captions `check_images` as Keras does."""
    from export.saved_model import open_signatures, to_saved_model_decoder

    meta = metadata(model)

    def caption(captioner, images, beam_size):
        return (captioner or model).caption(images, beam_size=beam_size)

    return to_saved_model_decoder(path, signatures(model), lambda d: Captioner(d, meta, signatures=open_signatures(d)),
                                  caption, check_images, atol, {**(extra_metadata or {}), "captioner": meta})
