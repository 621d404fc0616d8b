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
from export.tflite import ExportParityError, convert_signatures
from zoo import decoding
from zoo.vocabulary import Vocabulary
from zoo.weights import atomic_path, atomic_write_text

QUANTIZATIONS = (None, "float16", "dynamic")


def convert(model, quantize=None):
    """TFLite bytes with the signatures `encode` and `step` (builtin ops only, any batch size)."""
    import tensorflow as tf

    if quantize not in QUANTIZATIONS:
        raise ValueError(f"a captioner exports as fp32, float16 or dynamic; got quantize={quantize!r} "
                         "(full int8 would quantize the LSTM state fed back at every step)")
    state = model.encode(np.zeros((1, *model.image_shape), np.float32))
    spec = [tf.TensorSpec((None,), tf.int32, name="tokens")] + [
        tf.TensorSpec((None, *state[k].shape[1:]), tf.float32, name=k) for k in sorted(state)
    ]
    names = sorted(state)

    def step(tokens, *values):
        p, new, alpha, _ = model.step(tokens, dict(zip(names, values)))
        return {"log_probs": tf.math.log(tf.maximum(p, 1e-30)), "h": new["h"], "c": new["c"], "alignment": alpha}

    images = [tf.TensorSpec((None, *model.image_shape), tf.float32, name="images")]
    return convert_signatures({"encode": (model.encode, images), "step": (step, spec)}, quantize)


def metadata(model):
    """What the captioner needs besides the graphs: vocabulary, caption length, attention grid."""
    return {"tokens": model.vocab.tokens, "max_len": model.max_len, "grid": list(model.grid),
            "image_shape": list(model.image_shape), "attention": model.attention_kind}


class Captioner:
    """Greedy / beam-search captioning of an exported `ShowAttendTell` on LiteRT (no TensorFlow)."""

    def __init__(self, path, meta=None, num_threads=None):
        if meta is None:
            sidecar = Path(str(path) + ".json")
            if not sidecar.exists():
                raise FileNotFoundError(f"{sidecar} (the vocabulary written by the export) is missing")
            meta = json.loads(sidecar.read_text())["captioner"]
        self.meta = meta
        self.vocab = Vocabulary(meta["tokens"], "word")
        self.encoder = Runtime(path, num_threads=num_threads, signature="encode")
        self.decoder = Runtime(path, num_threads=num_threads, signature="step")

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


def compare(model, captioner, images, beam_size=1):
    """Caption `images` with Keras and LiteRT: (share of identical captions, max |score difference|)."""
    keras_out = model.caption(images, beam_size=beam_size)
    lite_out = captioner.caption(images, beam_size=beam_size)
    same = np.mean([a["text"] == b["text"] for a, b in zip(keras_out, lite_out)])
    score = max(abs(a["score"] - b["score"]) for a, b in zip(keras_out, lite_out))
    return float(same), float(score)


def to_tflite_captioner(model, path, check_images, quantize=None, atol=1e-4, extra_metadata=None):
    """Export `model` to `path` (+ sidecar `path.json`), checked on `check_images` before it is kept.

    fp32 must caption every check image as Keras does, greedy and beam 3, with |Δ log p| ≤ atol;
    quantized files report their agreement. Returns a dict of the checks.
    """
    flatbuffer = convert(model, quantize)
    path = Path(path)
    meta = metadata(model)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(flatbuffer)
        captioner = Captioner(tmp, meta)
        if any("Flex" in op for op in captioner.decoder.ops() + captioner.encoder.ops()):
            raise ExportParityError(f"{path}: the converted file contains Flex (SELECT_TF_OPS) ops")
        same, score_diff = compare(model, captioner, check_images)
        same_beam, _ = compare(model, captioner, check_images[:50], beam_size=3)
        if quantize is None and (same < 1.0 or same_beam < 1.0 or score_diff > atol):
            raise ExportParityError(
                f"LiteRT captions differently from Keras: {100 * same:.1f}% identical greedy captions, "
                f"{100 * same_beam:.1f}% beam-3, max |Δ log p| {score_diff:.2e} (allowed {atol:.0e}). {path} was not written."
            )
    report = {
        "size_kib": round(len(flatbuffer) / 1024, 1),
        "check_images": len(check_images),
        "identical_captions_percent": round(100 * same, 2),
        "identical_beam3_captions_percent": round(100 * same_beam, 2),
        "max_abs_log_prob_diff": float(f"{score_diff:.3g}"),
    }
    sidecar = {**(extra_metadata or {}), "quantize": quantize or "fp32", "captioner": meta, "check": report}
    atomic_write_text(Path(str(path) + ".json"), json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n")
    return report
