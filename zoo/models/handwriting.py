"""Handwriting synthesis: LSTMs that read a text through a soft window and write it as pen strokes
(Graves 2013, Generating Sequences With Recurrent Neural Networks, section 5; section 4's
unconditional network, the same without the window, is the baseline).

Pen points x_t = (Δx, Δy, end of stroke). With the characters c (one-hot) of the text, for t = 1 … T:
    h¹_t = LSTM¹(x_t, w_{t−1}, h¹_{t−1})                                             (52)
    w_t, φ_t, κ_t = SoftWindow(h¹_t, κ_{t−1}, c)                                      (46–51)
    h^n_t = LSTM^n(x_t, h^{n−1}_t, w_t, h^n_{t−1}),  n = 2 … L                        (53)
    ŷ_t = b_y + Σ_n W_{h^n y} h^n_t,  Pr(x_{t+1} | ŷ_t): `layers.mixture_density`     (17–25)
    L(x) = −Σ_t log Pr(x_{t+1} | ŷ_t), in nats per sequence                           (26)
skip connections from the input to every layer, the window to every layer and every layer to the
output, as in the paper (w_0 = 0, κ_0 = 0, zero LSTM states). Unconditional (`conditional=False`):
no window, h^n_t = LSTM^n(x_t, h^{n−1}_t, h^n_{t−1}).

Inputs: {"strokes": (B, T, 3) float32, "text": (B, U) int32 ids of `tokens`, 0 padding}. Teacher
forcing from a start point: (0, 0, 0), x_1 … x_{T−1} in, x_1 … x_T predicted, so every point is
scored (the first, an offset from the line's origin, too) and writing starts where training does.
Padding convention: a line ends with its last pen lift (end of stroke = 1); every row after the last
such row is padding and is left out of the loss (a sequence without any pen lift counts in full).
"""

import string

import keras
import numpy as np
from keras import ops

from layers.mixture_density import MixtureDensity, mixture_parameters, negative_log_likelihood, sample
from layers.soft_window import SoftWindow
from zoo.decoding import passed_end
from zoo.models.base import check_ids
from zoo.registry import register_model
from zoo.vocabulary import encode_characters

PAD = "<pad>"
TOKENS = (PAD, " ", *string.ascii_letters, ".", ",", "'")
# The window starts advancing 1/20 of a character a step (κ̂'s bias; the paper does not say): lines of
# handwriting take ~15–25 points a character, and a window that starts at 1 character a step has
# left the text before the pen has written its first letter.
WINDOW_STEP = 0.05


@register_model(
    "handwriting",
    task="stroke_writer",
    summary="Graves' handwriting synthesis: LSTMs write text as pen strokes through a soft window over its characters",
    paper="Graves. Generating Sequences With Recurrent Neural Networks. arXiv:1308.0850, 2013 (sections 4–5)",
    default_weights="strokes_kjv_128",
)
@keras.saving.register_keras_serializable(package="attention_zoo")
class Handwriting(keras.Model):
    """`call({"strokes", "text"})` → {"nll": L (B,) nats, "points": predicted points (B,), "y_hat":
    ŷ (B, T, 1 + 6M), "phi": φ (B, T, U)}; `fit` on those inputs (labels ignored) minimises the
    mean of L. `write(texts)` samples strokes; `step` and `serving_signature` are one step of it.

    Args:
        tokens: the characters in id order; tokens[0] must be "<pad>" (id 0 pads the text).
        max_text_len: U, the longest text the model reads (the exported step's text width).
        units: LSTM units per layer (400 in the paper).
        layers: L, the LSTM layers (3 in the paper).
        components: M, bivariate Gaussians of the output (20 in the paper).
        window: K, Gaussians of the soft window (10 in the paper).
        conditional: read the text through the window (section 5); False: section 4's unconditional
            network, the baseline.
        input_noise: σ of Gaussian noise added in training to the offsets (Δx, Δy) the network reads,
            x̃_t = x_t + (ε₁, ε₂, 0), ε ~ N(0, σ²), not to the points it predicts, so that it learns to go
            on from points that are not exactly the data's, as its own samples are not (0: none; not
            in the paper). Measured in docs/models/handwriting.md: not what makes lines readable.
    """

    input_dtypes = {"text": "int32"}  # read by `export.tflite`: the step's text ids

    def __init__(self, tokens=TOKENS, max_text_len=40, units=400, layers=3, components=20, window=10,
                 conditional=True, input_noise=0.0, **kwargs):
        super().__init__(**kwargs)
        self.tokens = [str(t) for t in tokens]
        if (len(self.tokens) < 2 or self.tokens[0] != PAD or len(set(self.tokens)) != len(self.tokens)
                or any(len(t) != 1 for t in self.tokens[1:])):
            raise ValueError(f"tokens must be '<pad>' then distinct single characters; got {tokens!r}")
        self.max_text_len, self.units, self.num_layers = int(max_text_len), int(units), int(layers)
        self.components, self.window_components = int(components), int(window)
        if min(self.max_text_len, self.units, self.num_layers, self.components, self.window_components) < 1:
            raise ValueError(f"max_text_len, units, layers, components and window must be positive; got "
                             f"{max_text_len}, {units}, {layers}, {components}, {window}")
        self.conditional = bool(conditional)
        self.input_noise = float(input_noise)
        if self.input_noise < 0:
            raise ValueError(f"input_noise must be a standard deviation ≥ 0; got {input_noise}")
        self.noise = keras.layers.GaussianNoise(self.input_noise, seed=0, name="input_noise") if self.input_noise else None
        self.lstms = [keras.layers.LSTM(self.units, return_sequences=True, name=f"lstm_{n + 1}")
                      for n in range(self.num_layers)]
        self.window = (SoftWindow(self.window_components, initial_step=WINDOW_STEP, name="window")
                       if self.conditional else None)
        self.mixture = MixtureDensity(self.components, name="mixture")
        self.nll_per_point = keras.metrics.Mean(name="nll_per_point")

    @property
    def window_width(self):
        """The width of w_t: the vocabulary, or 0 without a window."""
        return len(self.tokens) if self.conditional else 0

    def build(self, input_shape=None):
        self.lstms[0].build((None, None, 3 + self.window_width))
        for lstm in self.lstms[1:]:
            lstm.build((None, None, 3 + self.units + self.window_width))
        if self.conditional:
            self.window.build((None, self.units))
        self.mixture.build((None, None, self.num_layers * self.units))

    def build_for_inputs(self):
        strokes = np.array([[[0.0, 0.0, 0.0], [1.0, 0.0, 1.0]]], np.float32)
        self({"strokes": strokes, "text": np.ones((1, self.max_text_len), np.int32)})

    # Inputs.
    def check_inputs(self, inputs):
        """(strokes float32 (B, T, 3), text int32 (B, U) or None); a ValueError names what was expected."""
        if not isinstance(inputs, dict) or "strokes" not in inputs or (self.conditional and "text" not in inputs):
            got = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise ValueError(f"model {self.name!r} expects a dict with 'strokes' (batch, T, 3) float32 and "
                             f"'text' (batch, U) int32; got {got}")
        strokes = inputs["strokes"]
        shape, dtype = tuple(strokes.shape), keras.backend.standardize_dtype(strokes.dtype)
        if "float" not in dtype or len(shape) != 3 or shape[-1] != 3 or shape[1] == 0:
            raise ValueError(f"model {self.name!r} expects strokes of shape (batch, T ≥ 1, 3) (Δx, Δy, end of "
                             f"stroke) float32; got shape {shape} dtype {dtype}")
        text = self.check_text(inputs["text"]) if self.conditional else None
        return ops.cast(strokes, "float32"), text

    def check_text(self, text):
        return check_ids(self.name, text, "text ids", f"(batch, U ≤ {self.max_text_len})",
                         lambda n: 1 <= n <= self.max_text_len, len(self.tokens),
                         " Turn texts into ids with model.encode(texts).")

    def encode(self, texts):
        """int32 (N, max_text_len): the ids of each text, 0-padded (`vocabulary.encode_characters`)."""
        return encode_characters(texts, self.tokens, self.max_text_len)

    @staticmethod
    def lengths(strokes):
        """Points per sequence (B,): up to and including the last pen lift (the padding convention)."""
        end = strokes[..., 2] > 0.5
        steps = ops.shape(strokes)[1]
        last = ops.max(ops.where(end, ops.arange(steps)[None, :], -1), axis=1)
        return ops.where(last >= 0, last + 1, steps)

    # The network.
    def characters(self, text):
        """One-hot characters c (B, U, V) and the mask of real ones (B, U)."""
        return ops.one_hot(text, len(self.tokens), dtype="float32"), ops.not_equal(text, 0)

    def forward(self, x, text):
        """ŷ (B, T, 1 + 6M) and φ (B, T, U) (None without the window) for inputs x (B, T, 3)."""
        if self.conditional:
            chars, mask = self.characters(text)
            batch = ops.shape(x)[0]
            cell = self.lstms[0].cell

            def step(carry, x_t):
                h, c, kappa, w, _ = carry
                h, (_, c) = cell(ops.concatenate([x_t, w], -1), [h, c])
                w, phi, kappa, _ = self.window(h, kappa, chars, mask=mask)
                return (h, c, kappa, w, phi), (h, c, kappa, w, phi)

            zeros = ops.zeros((batch, self.units))
            init = (zeros, zeros, ops.zeros((batch, self.window_components)), ops.zeros((batch, len(self.tokens))),
                    ops.zeros((batch, ops.shape(text)[1])))
            _, (h, _, _, w, phi) = ops.scan(step, init, ops.transpose(x, (1, 0, 2)))
            h, w, phi = (ops.transpose(v, (1, 0, 2)) for v in (h, w, phi))
            extra = [w]
        else:
            h, phi, extra = self.lstms[0](x), None, []
        hidden = [h]
        for lstm in self.lstms[1:]:
            hidden.append(lstm(ops.concatenate([x, hidden[-1], *extra], -1)))
        return self.mixture(ops.concatenate(hidden, -1)), phi

    def call(self, inputs, training=None):
        strokes, text = self.check_inputs(inputs)
        x = ops.concatenate([ops.zeros_like(strokes[:, :1]), strokes[:, :-1]], 1)  # the start point, x_1 … x_{T−1}
        if self.noise is not None:
            x = ops.concatenate([self.noise(x[..., :2], training=training), x[..., 2:]], -1)
        mask = ops.arange(ops.shape(strokes)[1])[None, :] < ops.expand_dims(self.lengths(strokes), 1)
        y_hat, phi = self.forward(x, text)
        out = {"nll": negative_log_likelihood(y_hat, strokes, mask), "points": ops.sum(ops.cast(mask, "float32"), 1),
               "y_hat": y_hat}
        return out if phi is None else {**out, "phi": phi}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """L (eq. 26), nats per sequence, averaged over the batch."""
        return ops.mean(y_pred["nll"])

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        # nats per point: Σ L / Σ points over the batch (a Mean weighted by points).
        self.nll_per_point.update_state(y_pred["nll"] / ops.maximum(y_pred["points"], 1.0),
                                        sample_weight=y_pred["points"])
        return {m.name: m.result() for m in self.metrics}

    @property
    def metrics(self):
        tracked = [self._loss_tracker] if getattr(self, "_loss_tracker", None) is not None else []
        return tracked + [self.nll_per_point]

    # One step: what writing and the exported file run.
    def initial_state(self, batch):
        """Zero states: {"h", "c": (B, L, units), and "kappa" (B, K), "window" (B, V) with the window}."""
        state = {"h": np.zeros((batch, self.num_layers, self.units), np.float32)}
        state["c"] = state["h"].copy()
        if self.conditional:
            state["kappa"] = np.zeros((batch, self.window_components), np.float32)
            state["window"] = np.zeros((batch, len(self.tokens)), np.float32)
        return state

    def _step(self, point, chars, mask, state):
        """ŷ_t (B, 1 + 6M), φ_t (B, U), φ(t, U + 1) (B,) and the new state, from x_t (B, 3)."""
        point = ops.cast(point, "float32")
        h, c = ops.cast(state["h"], "float32"), ops.cast(state["c"], "float32")
        extra, phi, phi_end, new = [], None, None, {}
        hidden, cells = [], []
        for n, lstm in enumerate(self.lstms):
            inputs = [point, state["window"]] if n == 0 and self.conditional else [point, *hidden[-1:], *extra]
            h_n, (_, c_n) = lstm.cell(ops.concatenate([ops.cast(v, "float32") for v in inputs], -1), [h[:, n], c[:, n]])
            hidden.append(h_n)
            cells.append(c_n)
            if n == 0 and self.conditional:
                w, phi, kappa, phi_end = self.window(h_n, ops.cast(state["kappa"], "float32"), chars, mask=mask)
                extra, new = [w], {"kappa": kappa, "window": w}
        new = {"h": ops.stack(hidden, 1), "c": ops.stack(cells, 1), **new}
        return self.mixture(ops.concatenate(hidden, -1)), phi, phi_end, new

    def step(self, point, text, bias, state):
        """One step: x_t (B, 3), text ids (B, U) (None without the window), bias b (B,), the state →
        {"end_of_stroke" (B, 1), "pi" (B, M), "mu", "sigma" (B, M, 2), "rho" (B, M): Pr(x_{t+1}) under
        b; "phi" (B, U), "phi_end" (B,): the window and φ(t, U + 1); "state_*": the new state}."""
        chars, mask = self.characters(self.check_text(text)) if self.conditional else (None, None)
        y_hat, phi, phi_end, new = self._step(point, chars, mask, state)
        params = mixture_parameters(y_hat, ops.cast(bias, "float32"))
        out = {"end_of_stroke": params["e"][:, None], **{k: params[k] for k in ("pi", "mu", "sigma", "rho")},
               **{f"state_{k}": v for k, v in new.items()}}
        return out if phi is None else {**out, "phi": phi, "phi_end": phi_end}

    def serving_signature(self):
        """The exported step: point (B, 3), bias (B,), state_h, state_c (B, L, units) and, with the
        window, text (B, max_text_len) int32, state_kappa (B, K), state_window (B, V) → `step`'s outputs."""
        inputs = {"point": (None, 3), "bias": (None,), "state_h": (None, self.num_layers, self.units),
                  "state_c": (None, self.num_layers, self.units)}
        if self.conditional:
            inputs.update(text=(None, self.max_text_len), state_kappa=(None, self.window_components),
                          state_window=(None, len(self.tokens)))

        def serve(point, bias, text=None, **state):
            return self.step(point, text, bias, {k[len("state_"):]: v for k, v in state.items()})

        return inputs, serve

    # Writing.
    def write(self, texts, bias=0.0, seed=0, max_steps=None, prime=None):
        """Sample handwriting of each text: a list of {"text", "strokes" (T_i, 3) float32, "phi" (T_i, U_i)}.

        Every step samples x_{t+1} ~ Pr(· | ŷ_t) under Graves' bias b (eqs. 61–62). A line ends when
        the window has passed its last character (φ(t, U + 1) > φ(t, u) for all u ≤ U, checked before
        the point is drawn) or after `max_steps` points (default: 40 per character of the longest
        text); its last point ends the stroke. The unconditional model writes `max_steps` points and
        φ has no columns. `prime` = (strokes (T, 3), text): the network first reads those strokes
        (Graves' primed sampling, section 5.5) and then writes each text conditioned on
        "prime text" + " " + text; φ's columns are that whole text's characters.
        """
        if isinstance(texts, str):
            raise ValueError(f"expected a list of texts; got the string {texts!r}: wrap it in a list")
        texts = list(texts)
        read = texts
        points = np.zeros((1, 3), np.float32)  # the start point
        if prime is not None:
            strokes, prime_text = prime
            strokes = np.asarray(strokes, np.float32)
            if strokes.ndim != 2 or strokes.shape[1] != 3 or not len(strokes):
                raise ValueError(f"expected prime strokes of shape (T, 3); got shape {strokes.shape}")
            points = np.concatenate([points, strokes])
            read = [f"{prime_text} {text}" for text in texts]
        ids = self.encode(read)
        batch = len(texts)
        max_steps = 40 * max(map(len, read)) if max_steps is None else int(max_steps)
        chars, mask = self.characters(ops.convert_to_tensor(ids)) if self.conditional else (None, None)
        state = self.initial_state(batch)
        for point in points[:-1]:
            state = self._step(np.repeat(point[None], batch, 0), chars, mask, state)[3]
        point, noise = np.repeat(points[-1:], batch, 0), keras.random.SeedGenerator(seed)
        written, windows, length = [], [], np.full(batch, max_steps)
        for t in range(max_steps):
            y_hat, phi, phi_end, state = self._step(point, chars, mask, state)
            if self.conditional:
                phi = ops.convert_to_numpy(phi)
                done = passed_end(phi, ops.convert_to_numpy(phi_end)) & (length == max_steps)
                length[done] = t
                if (length < max_steps).all():
                    break
                windows.append(phi)
            point = ops.convert_to_numpy(sample(y_hat, bias, noise))
            written.append(point)
        written = np.stack(written, 1) if written else np.zeros((batch, 0, 3), np.float32)
        windows = np.stack(windows, 1) if windows else np.zeros((batch, written.shape[1], self.max_text_len))
        results = []
        for b, text in enumerate(read):
            strokes = written[b, : length[b]].copy()
            if len(strokes):
                strokes[-1, 2] = 1.0
            columns = len(text) if self.conditional else 0
            results.append({"text": text, "strokes": strokes, "phi": windows[b, : length[b], :columns]})
        return results

    def picture(self, inputs, texts, path, bias=0.5, seed=0):
        """The paper's Figure 13: each of `texts` written (bias b), the text beneath and the window φ
        (characters × time) beside; the ground-truth strokes of the same texts (`inputs["strokes"]`,
        as `TestSet.examples` gives them) drawn below where `inputs` is given."""
        from zoo.pictures import handwriting_picture

        references = None if inputs is None else list(np.asarray(inputs["strokes"]))
        return handwriting_picture(self.write(list(texts), bias=bias, seed=seed), path, references,
                                   title=f"{self.name}: written with bias {bias:g}; right: the window φ")

    def get_config(self):
        return {
            **super().get_config(),
            "tokens": self.tokens,
            "max_text_len": self.max_text_len,
            "units": self.units,
            "layers": self.num_layers,
            "components": self.components,
            "window": self.window_components,
            "conditional": self.conditional,
            "input_noise": self.input_noise,
        }
