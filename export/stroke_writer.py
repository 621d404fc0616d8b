"""A `Handwriting` model's step as one `.tflite` file, and the LiteRT writer that runs it.

Writing is a loop over one graph, the model's serving signature `step`: (point x_t, text ids, bias b,
state) → Pr(x_{t+1}) under b (end_of_stroke, pi, mu, sigma, rho), the window φ_t and φ(t, U + 1), and
the next state. `Writer` runs that loop with NumPy and LiteRT only: it samples each point from the
mixture in NumPy (Graves 2013, eqs. 61–62: the bias is applied inside the graph) and stops a line as
`Handwriting.write` does (the window has passed the last character). Called like the model on
{"strokes", "text"}, it teacher-forces the step and returns {"nll", "points"} (eq. 26 in NumPy), so
`recipes.evaluate.evaluate_strokes` measures the test NLL through the file. The tokens and sizes come
from the sidecar `FILE.tflite.json` (key "stroke_writer").

    cell = export_stroke_writer(model, rec, "tflite", "fp32", TestSet(rec), out="handwriting.tflite")
    Writer("handwriting.tflite").write(["hello world"], bias=1.0)[0]["strokes"]
"""

import math
from pathlib import Path

import numpy as np

from export.runtime import Runtime, median_ms, sidecar_metadata
from zoo.decoding import passed_end
from zoo.vocabulary import encode_characters

QUANTIZATIONS = ("fp32", "float16", "dynamic")
CHECK_LINES, CHECK_STEPS = 8, 32  # real states for the parity check: 8 test lines, 32 teacher-forced steps each


def metadata(model):
    """What the writer needs besides the graph: the characters, the text width and the state sizes."""
    return {"tokens": list(model.tokens), "max_text_len": model.max_text_len, "conditional": model.conditional,
            "layers": model.num_layers, "units": model.units, "window": model.window_components}


class Writer:
    """An exported stroke writer on LiteRT (no TensorFlow): `write` as `Handwriting.write`, and
    called like the model, its teacher-forced negative log-likelihood."""

    def __init__(self, path, meta=None, num_threads=None):
        self.meta = meta = sidecar_metadata(path, "stroke_writer") if meta is None else meta
        self.conditional = bool(meta["conditional"])
        self.runtime = Runtime(path, num_threads=num_threads)

    def encode(self, texts):
        """int32 (N, max_text_len) ids of `texts`, 0-padded (`vocabulary.encode_characters`)."""
        return encode_characters(texts, self.meta["tokens"], self.meta["max_text_len"])

    def initial_state(self, batch):
        """Zero states by input name, as `Handwriting.initial_state`."""
        m = self.meta
        state = {"state_h": np.zeros((batch, m["layers"], m["units"]), np.float32)}
        state["state_c"] = state["state_h"].copy()
        if self.conditional:
            state["state_kappa"] = np.zeros((batch, m["window"]), np.float32)
            state["state_window"] = np.zeros((batch, len(m["tokens"])), np.float32)
        return state

    def step(self, point, ids, bias, state):
        """One run of the graph: the step's outputs (the new state under "state_*")."""
        text = {"text": ids} if self.conditional else {}
        return self.runtime(point=point, bias=np.broadcast_to(np.float32(bias), (len(point),)), **text, **state)

    def write(self, texts, bias=0.0, seed=0, max_steps=None):
        """Sample handwriting of each text: a list of {"text", "strokes" (T_i, 3), "phi" (T_i, U_i)}.
        A line ends when φ(t, U + 1) > φ(t, u) for every u ≤ U (checked before the point is drawn) or
        after `max_steps` points (default: 40 per character of the longest text); its last point ends
        the stroke. Sampling uses NumPy's generator of `seed`, so the lines differ from Keras's."""
        if isinstance(texts, str):
            raise ValueError(f"expected a list of texts; got the string {texts!r}: wrap it in a list")
        texts = list(texts)
        ids, batch, rng = self.encode(texts), len(texts), np.random.default_rng(seed)
        max_steps = 40 * max(map(len, texts)) if max_steps is None else int(max_steps)
        state, point = self.initial_state(batch), np.zeros((batch, 3), np.float32)
        written, windows, length = [], [], np.full(batch, max_steps)
        for t in range(max_steps):
            out = self.step(point, ids, bias, state)
            state = {k: out[k] for k in state}
            if self.conditional:
                done = passed_end(out["phi"], out["phi_end"]) & (length == max_steps)
                length[done] = t
                if (length < max_steps).all():
                    break
                windows.append(out["phi"])
            point = sample(out, rng)
            written.append(point)
        written = np.stack(written, 1) if written else np.zeros((batch, 0, 3), np.float32)
        windows = np.stack(windows, 1) if windows else np.zeros((batch, written.shape[1], ids.shape[1]), np.float32)
        results = []
        for b, text in enumerate(texts):
            strokes = written[b, : length[b]].copy()
            if len(strokes):
                strokes[-1, 2] = 1.0
            results.append({"text": text, "strokes": strokes,
                            "phi": windows[b, : length[b], : len(text) if self.conditional else 0]})
        return results

    def __call__(self, inputs, training=False):
        """{"nll" (B,) nats, "points" (B,)} of {"strokes" (B, T, 3), "text" (B, U)}, as the model's call:
        the start point then x_1 … x_{T−1} in, every point up to the last pen lift scored (bias 0)."""
        strokes = np.asarray(inputs["strokes"], np.float32)
        ids = np.zeros((len(strokes), self.meta["max_text_len"]), np.int32)
        text = np.asarray(inputs["text"])
        ids[:, : text.shape[1]] = text
        ends = strokes[..., 2] > 0.5
        last = np.where(ends.any(1), strokes.shape[1] - 1 - np.argmax(ends[:, ::-1], 1), strokes.shape[1] - 1)
        state, point = self.initial_state(len(strokes)), np.zeros((len(strokes), 3), np.float32)
        nll = np.zeros(len(strokes))
        for t in range(strokes.shape[1]):
            out = self.step(point, ids, 0.0, state)
            state = {k: out[k] for k in state}
            nll -= np.where(t <= last, log_likelihood(out, strokes[:, t]), 0.0)
            point = strokes[:, t]
        return {"nll": nll, "points": (last + 1).astype(np.float64)}


def sample(out, rng):
    """x ~ Pr(· | step outputs) (B, 3) float32: a Gaussian j ~ π, (x₁, x₂) from N(μ_j, σ_j, ρ_j),
    end of stroke ~ Bernoulli(e)."""
    pi = out["pi"] / out["pi"].sum(-1, keepdims=True)
    j = (rng.random((len(pi), 1)) > np.cumsum(pi, -1)).sum(-1).clip(0, pi.shape[1] - 1)
    rows = np.arange(len(pi))
    mu, sigma, rho = out["mu"][rows, j], out["sigma"][rows, j], out["rho"][rows, j]
    z1, z2 = rng.standard_normal((2, len(pi)))
    x1 = mu[:, 0] + sigma[:, 0] * z1
    x2 = mu[:, 1] + sigma[:, 1] * (rho * z1 + np.sqrt(1.0 - rho ** 2) * z2)
    end = rng.random(len(pi)) < out["end_of_stroke"][:, 0]
    return np.stack([x1, x2, end], -1).astype(np.float32)


def log_likelihood(out, x):
    """log Pr(x | step outputs) (eqs. 23–25) of points x (B, 3), in float64."""
    pi, mu, sigma, rho = (np.asarray(out[k], np.float64) for k in ("pi", "mu", "sigma", "rho"))
    d = (np.asarray(x[:, None, :2], np.float64) - mu) / sigma
    z = d[..., 0] ** 2 + d[..., 1] ** 2 - 2 * rho * d[..., 0] * d[..., 1]
    one_minus = np.maximum(1.0 - rho ** 2, 1e-12)
    log_normal = -z / (2 * one_minus) - math.log(2 * math.pi) - np.log(sigma).sum(-1) - 0.5 * np.log(one_minus)
    joint = np.log(np.maximum(pi, 1e-300)) + log_normal
    top = joint.max(-1)
    e = np.clip(np.asarray(out["end_of_stroke"][:, 0], np.float64), 1e-12, 1 - 1e-12)
    return top + np.log(np.exp(joint - top[:, None]).sum(-1)) + np.where(x[:, 2] > 0.5, np.log(e), np.log1p(-e))


def check_inputs(model, inputs, lines=CHECK_LINES, steps=CHECK_STEPS):
    """Real inputs of the step (by name, `lines` × `steps` rows): the states Keras reaches teacher-forcing
    the first test lines `inputs` ({"strokes", "text"}) from zero, with bias 0 … 2 across the lines."""
    from keras import ops

    strokes, text = inputs["strokes"][:lines, :steps], inputs["text"][:lines]
    serve = model.serving_signature()[1]
    state = {f"state_{k}": v for k, v in model.initial_state(len(strokes)).items()}
    bias = np.linspace(0.0, 2.0, len(strokes)).astype(np.float32)
    point, rows = np.zeros((len(strokes), 3), np.float32), []
    for t in range(strokes.shape[1]):
        feed = {"point": point, "bias": bias, **state, **({"text": text} if model.conditional else {})}
        rows.append(feed)
        out = serve(**feed)
        state = {k: ops.convert_to_numpy(out[k]) for k in state}
        point = strokes[:, t]
    return {k: np.concatenate([r[k] for r in rows]).astype(np.int32 if k == "text" else np.float32) for k in rows[0]}


def export_stroke_writer(model, rec, fmt, quantize, test, out):
    """A stroke writer's export cell: the step (TFLite fp32, float16 or dynamic; or a SavedModel),
    kept only if it matches Keras on real states (`check_inputs`, 256 rows), with its size, the max
    difference of the step outputs, the test NLL through the file beside Keras's (TFLite) and the
    latency per written point at batch 1."""
    from export.records import _keras_metrics, _write_sidecar, tflite_path
    from export.tflite import gpu_delegate_report, to_tflite

    if fmt != "saved_model" and quantize not in QUANTIZATIONS:
        raise ValueError(f"a stroke writer exports as fp32, float16 or dynamic; got quantize={quantize!r} "
                         "(full int8 would quantize the LSTM state fed back at every point); of the compressed files, "
                         "float16 keeps the shipped weights' test NLL within budget, dynamic range does not")
    feed = check_inputs(model, test.examples(CHECK_LINES)[0])
    one = {k: v[:1] for k, v in feed.items()}
    serve = model.serving_signature()[1]
    keras_ms = round(median_ms(lambda: serve(**one), runs=20), 3)
    if fmt == "saved_model":
        from export.saved_model import open_signatures, to_saved_model

        path = Path(out or f"{rec['model']}.{rec['tag']}_saved_model")
        report = to_saved_model(model, path, check_inputs=feed)
        served = open_signatures(path)("serving_default")
        return {"path": str(path), "size_kib": round(report.size_bytes / 1024, 1),
                "parity_max_abs_diff": float(f"{report.max_abs_diff:.3g}"), "check_inputs": report.checked_examples,
                "latency_ms_per_point_saved_model": round(median_ms(lambda: served(**one), runs=20), 3),
                "latency_ms_per_point_keras": keras_ms}
    path = tflite_path(rec, quantize, out)
    report = to_tflite(model, path, quantize=None if quantize == "fp32" else quantize, check_inputs=feed)
    meta = metadata(model)
    writer, keras_nll = Writer(path, meta), _keras_metrics(rec, test, model)
    lite_nll = test.metrics(writer)
    result = {
        "path": str(path),
        "size_kib": round(report.size_bytes / 1024, 1),
        "parity_max_abs_diff": float(f"{report.max_abs_diff:.3g}"),
        "check_inputs": report.checked_examples,
        **gpu_delegate_report(path),
        "test_nll_keras": keras_nll["nll"],
        "test_nll_tflite": lite_nll["nll"],
        "nll_change": round(lite_nll["nll"] - keras_nll["nll"], 2),
        "test_examples": lite_nll["examples"],
        "latency_ms_per_point_litert": round(median_ms(lambda: writer.runtime(**one), runs=20), 3),
        "latency_ms_per_point_keras": keras_ms,
    }
    _write_sidecar(path, rec, quantize, {"stroke_writer": meta}, result)
    return result
