"""Show, Attend and Tell (Xu et al. 2015): an LSTM that captions an image, attending its annotations.

Encoder: a CNN (or a `keras.applications` backbone) turns the image into an H′×W′ grid of
features; each of the L = H′·W′ annotation vectors a_i is the feature at cell i with that cell's
centre (y_i, x_i) ∈ [−1, 1]² appended, so a context ẑ carries where it was read from.
Decoder, from h_0 = tanh(W_h0 ā), c_0 = tanh(W_c0 ā) with ā = (1/L) Σ_i a_i (the paper's
initial state; `init="zeros"` starts from h_0 = c_0 = 0, so the image reaches the decoder only
through ẑ); at step t, with e = E y_{t−1}:

    soft   ẑ_t, α_t = β_t Σ_i α_ti a_i  (`layers.attention.SoftAttention` on h_{t−1})
    hard   ẑ_t = β_t a_s, s ~ Multinomial(α_t) while training (`HardAttention`); Σ_i α_ti a_i at inference
    none   ẑ_t = ReLU(W_g vec(a)), one global image vector for every step (the Show-and-Tell baseline)

    h_t, c_t = LSTM([e; ẑ_t], h_{t−1}, c_{t−1});  p(y_t) = softmax(L_o(e + L_h h_t + L_z ẑ_t))  (deep output)

`fit` uses teacher forcing on {"images": (B, H, W, C) in [0, 1], "captions": <s> y_1 … y_T </s>
ids, 0-padded to (B, max_len + 2)} against y = captions[:, 1:]; the decoder reads
captions[:, :-1]. The loss is the mean cross-entropy of the real words plus, with attention,
the doubly stochastic penalty λ Σ_i (1 − Σ_t α_ti)², the focus term λ_F · mean_t H(α_t) (0 by
default), and for hard attention the REINFORCE term
of `layers.attention.reinforce_loss` (reward: the caption's log-likelihood; a moving-average
baseline; an entropy bonus), per word like the cross-entropy. `caption(images, beam_size)`
returns words, scores and one attention map (H′, W′) per word.

What the pretrained weights know: 64×64 grey scenes of 2–4 Fashion-MNIST items (10 classes, large
or small) on a 2×2 grid, described by a small grammar of classes, positions and relations
(docs/models/show_attend_tell.md). A real photo gets a confident caption in that grammar that means
nothing; captioning photos needs the COCO recipe (`zoo train show_attend_tell_coco_soft`, TFDS
online), which ships no weights.
"""

import keras
import numpy as np
from keras import layers, ops

from layers.attention import (HardAttention, MovingAverageBaseline, SoftAttention, attention_entropy, doubly_stochastic_penalty,
                              reinforce_loss)
from zoo import decoding
from zoo.models.base import cell_centres, check_images, token_mean
from zoo.registry import register_model
from zoo.vocabulary import Vocabulary


@register_model(
    "show_attend_tell",
    task="captioner",
    summary="Show, Attend and Tell: captions with soft or hard attention and per-word attention maps; "
    "pretrained on generated scenes of Fashion-MNIST items only (not photos)",
    paper="Xu, Ba, Kiros, Cho, Courville, Salakhutdinov, Zemel, Bengio. Show, Attend and Tell: Neural Image Caption "
    "Generation with Visual Attention. ICML 2015",
    default_weights="scenes_fashion_mnist_soft",
)
@keras.saving.register_keras_serializable(package="attention_zoo")
class ShowAttendTell(keras.Model):
    """CNN encoder → attentive LSTM decoder; returns p(y_t | y_<t, image) (B, T, V).

    Args:
        tokens: the caption words (the vocabulary, saved in the config).
        attention: "soft", "hard" or "none" (the no-attention baseline).
        image_shape: (H, W, C) of the input images, values in [0, 1].
        filters: the encoder CNN, one conv + 2×2 max-pool per entry (grid H/2^n × W/2^n).
        kernels: each conv's side (default 3 for every entry); 1 in the last entries shrinks an
            annotation's receptive field (3, 3, 3 reads 22 px around its cell; 3, 3, 1 reads 14).
        pool_last: False takes the annotations before the last max-pool (grid H/2^(n−1) ×
            W/2^(n−1)), as Xu et al. take VGG's conv5_4 before its pool.
        backbone: instead of `filters`, the name of a `keras.applications` model (e.g.
            "EfficientNetB0", which scales its own inputs); grey images are repeated to RGB and
            scaled to [0, 255]. `backbone_weights`: None or "imagenet" (needs the cached file).
        embedding_dim, units, attention_units: m (embedding and deep-output width), the LSTM
            width n, the f_att width.
        max_len: the longest caption in words (the decoder runs max_len + 1 steps, with </s>).
        penalty: λ of the doubly stochastic penalty.
        entropy_weight: λ_H of hard attention's entropy bonus.
        focus: λ_F, the weight of the mean entropy of α_t over a caption's words, penalised: it
            sharpens attention onto fewer cells (0: off, as the paper).
        init: "mean" (h_0, c_0 from the mean annotation, as the paper) or "zeros".
        seed: seed of hard attention's sampling.
    """

    ATTENTIONS = ("soft", "hard", "none")
    INITS = ("mean", "zeros")

    def __init__(
        self,
        tokens=(),
        attention="soft",
        image_shape=(64, 64, 1),
        filters=(16, 32, 64),
        kernels=None,
        pool_last=True,
        backbone=None,
        backbone_weights=None,
        embedding_dim=32,
        units=128,
        attention_units=64,
        max_len=31,
        penalty=0.05,
        entropy_weight=0.01,
        focus=0.0,
        init="mean",
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if attention not in self.ATTENTIONS:
            raise ValueError(f"attention must be one of {self.ATTENTIONS}; got {attention!r}")
        if init not in self.INITS:
            raise ValueError(f"init must be one of {self.INITS}; got {init!r}")
        self.init = init
        self.vocab = Vocabulary(tokens, "word")
        self.attention_kind = attention
        self.image_shape = tuple(int(d) for d in image_shape)
        self.filters, self.pool_last = tuple(int(f) for f in filters), bool(pool_last)
        self.kernels = (3,) * len(self.filters) if kernels is None else tuple(int(k) for k in kernels)
        if len(self.kernels) != len(self.filters) or min(self.kernels, default=1) < 1:
            raise ValueError(f"kernels must give one positive side per entry of filters {self.filters}; got {kernels!r}")
        self.backbone_name, self.backbone_weights = backbone, backbone_weights
        self.embedding_dim, self.units, self.attention_units = int(embedding_dim), int(units), int(attention_units)
        self.max_len, self.penalty, self.entropy_weight, self.seed = int(max_len), float(penalty), float(entropy_weight), seed
        self.focus = float(focus)
        self.encoder = self._encoder()
        self.grid = tuple(int(d) for d in self.encoder.output_shape[1:3])
        if init == "mean":
            self.init_h = layers.Dense(self.units, activation="tanh", name="W_h0")
            self.init_c = layers.Dense(self.units, activation="tanh", name="W_c0")
        self.embedding = layers.Embedding(len(self.vocab), self.embedding_dim, name="E")
        self.cell = layers.LSTMCell(self.units, name="decoder")
        self.attention = {
            "soft": lambda: SoftAttention(self.attention_units, name="f_att"),
            "hard": lambda: HardAttention(self.attention_units, seed=seed, name="f_att"),
            "none": lambda: layers.Dense(self.encoder.output_shape[-1] + 2, activation="relu", name="W_g"),
        }[attention]()
        self.baseline = None
        if attention == "hard":  # built now: inference never calls it, but its b is saved with the weights
            self.baseline = MovingAverageBaseline(name="baseline")
            self.baseline.build()
        self.L_h = layers.Dense(self.embedding_dim, name="L_h")
        self.L_z = layers.Dense(self.embedding_dim, name="L_z")
        self.L_o = layers.Dense(len(self.vocab), name="L_o")

    def _encoder(self):
        inputs = keras.Input(self.image_shape)
        if self.backbone_name is None:
            x = inputs
            for i, (f, k) in enumerate(zip(self.filters, self.kernels)):
                x = layers.Conv2D(f, k, padding="same", activation="relu")(x)
                if self.pool_last or i < len(self.filters) - 1:
                    x = layers.MaxPooling2D()(x)
        else:
            rgb = layers.Concatenate()([inputs] * 3) if self.image_shape[-1] == 1 else inputs
            backbone = getattr(keras.applications, self.backbone_name)(
                include_top=False, weights=self.backbone_weights, input_shape=(*self.image_shape[:2], 3))
            x = backbone(rgb * 255.0)
        return keras.Model(inputs, x, name="encoder")

    def build_for_inputs(self):
        self({"images": ops.zeros((1, *self.image_shape)), "captions": ops.ones((1, self.max_len + 2), "int32")})

    def get_build_config(self):
        return {"images": [None, *self.image_shape], "captions": [None, self.max_len + 2]}

    def build_from_config(self, config):
        """Loading from a .keras file: the variables come from one call on a dummy input."""
        self.build_for_inputs()

    def annotations(self, images):
        """a (B, L, D + 2): the encoder's grid, flattened in reading order, with each cell's (y, x)."""
        features = self.encoder(images)
        rows, columns = self.grid
        where = ops.convert_to_tensor(cell_centres(rows, columns)[None])
        features = ops.reshape(features, (-1, rows * columns, features.shape[-1]))
        return ops.concatenate([features, ops.broadcast_to(where, (ops.shape(features)[0], rows * columns, 2))], -1)

    def encode(self, images):
        """images → the decoder's start state {h, c, annotations, keys} (keys: W_a a, or the
        global image vector for the no-attention baseline)."""
        a = self.annotations(self.check_images(images))
        if self.attention_kind == "none":
            keys = self.attention(ops.reshape(a, (-1, a.shape[1] * a.shape[2])))
        else:
            if not self.attention.built:  # `project` runs before the layer's first call
                self.attention.build((None, self.units), a.shape)
            keys = self.attention.project(a)
        if self.init == "zeros":
            h = c = ops.zeros((ops.shape(a)[0], self.units), a.dtype)
        else:
            mean = ops.mean(a, axis=1)
            h, c = self.init_h(mean), self.init_c(mean)
        return {"h": h, "c": c, "annotations": a, "keys": keys}

    def step(self, tokens, state, training=False):
        """One decoder step: y_{t−1} (B,) → p(y_t) (B, V), next state, α_t (B, L), log p(s_t) (B,)."""
        e = self.embedding(tokens)
        h, c, a, keys = state["h"], state["c"], state["annotations"], state["keys"]
        log_p = ops.zeros_like(h[:, 0])
        if self.attention_kind == "none":
            z, alpha = keys, ops.zeros_like(a[..., 0])
        elif self.attention_kind == "hard":
            z, alpha, log_p = self.attention(h, a, keys=keys, training=training)
        else:
            z, alpha = self.attention(h, a, keys=keys)
        h, (_, c) = self.cell(ops.concatenate([e, z], axis=-1), [h, c])
        logits = self.L_o(e + self.L_h(h) + self.L_z(z))
        return ops.softmax(logits, axis=-1), {**state, "h": h, "c": c}, alpha, log_p

    def call(self, inputs, training=False, return_attention=False):
        images, captions = self.check_inputs(inputs)
        state = self.encode(images)
        probabilities, alphas, log_ps = [], [], []
        for t in range(captions.shape[1] - 1):
            p, state, alpha, log_p = self.step(captions[:, t], state, training=training)
            probabilities.append(p)
            alphas.append(alpha)
            log_ps.append(log_p)
        probabilities, alphas = ops.stack(probabilities, axis=1), ops.stack(alphas, axis=1)
        if training and self.attention_kind != "none":
            self.add_attention_losses(captions[:, 1:], probabilities, alphas, ops.stack(log_ps, axis=1))
        return (probabilities, alphas) if return_attention else probabilities

    def add_attention_losses(self, targets, probabilities, alphas, log_p):
        """λ Σ_i (1 − Σ_t α_ti)² over the real steps; λ_F times the mean entropy of α_t over
        the real steps (when λ_F > 0); for hard attention, REINFORCE with reward
        R = log p(y | s, a), the caption's log-likelihood, against a moving average of R, and the
        entropy bonus, both divided by the mean caption length: Xu et al. weigh them against a
        caption's summed cross-entropy, `compute_loss` averages it over the words."""
        valid = ops.cast(ops.not_equal(targets, 0), "float32")
        alphas = ops.cast(alphas, "float32")
        self.add_loss(doubly_stochastic_penalty(alphas, valid, self.penalty))
        if self.focus:
            self.add_loss(self.focus * token_mean(attention_entropy(alphas), targets))
        if self.attention_kind == "hard":
            picked = ops.take_along_axis(ops.cast(probabilities, "float32"), ops.expand_dims(targets, -1), axis=-1)[..., 0]
            reward = ops.sum(ops.log(ops.maximum(picked, 1e-30)) * valid, axis=1)
            baseline = self.baseline(reward, training=True)
            words = ops.maximum(ops.mean(ops.sum(valid, axis=1)), 1.0)  # per word, as the cross-entropy is
            self.add_loss(reinforce_loss(ops.cast(log_p, "float32") * valid, reward, baseline,
                                         alphas * ops.expand_dims(valid, -1), self.entropy_weight) / words)

    def check_images(self, images):
        return check_images(self.name, images, self.image_shape)

    def check_inputs(self, inputs):
        """Refuse inputs that are not {"images": float (B, H, W, C), "captions": int ids (B, T ≤ max_len + 2)}."""
        if not isinstance(inputs, dict) or set(inputs) != {"images", "captions"}:
            got = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise ValueError(
                f'model {self.name!r} takes a dict {{"images": floats, "captions": ids}} for teacher forcing; got {got}. '
                "To caption images, use model.caption(images)."
            )
        captions = inputs["captions"]
        dtype = keras.backend.standardize_dtype(captions.dtype)
        if "int" not in dtype or len(captions.shape) != 2 or (captions.shape[1] or 0) > self.max_len + 2:
            raise ValueError(f"'captions' must be integer word ids of shape (batch, ≤{self.max_len + 2}); "
                             f"got {dtype} {tuple(captions.shape)}")
        return inputs["images"], captions

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Mean cross-entropy over the caption words (padding, id 0, excluded) + the attention losses."""
        nll = keras.losses.sparse_categorical_crossentropy(y, ops.cast(y_pred, "float32"))
        return token_mean(nll, y) + sum(self.losses)  # add_loss terms: the doubly stochastic penalty, REINFORCE

    def teacher_forcing(self, images, captions):
        """({"images", "captions": framed ids}, targets = ids[:, 1:]) for `fit`, one caption per image."""
        ids = self.vocab.encode(list(captions), self.max_len + 2, bos=True, eos=True)
        return {"images": images, "captions": ids}, ids[:, 1:]

    def caption(self, images, beam_size=3, alpha=1.0, batch_size=256):
        """Caption `images` (float (N, H, W, C) in [0, 1]): a dict per image {text, words, score,
        attention (words + 1, H′, W′): α at each emitted word and at </s>}. beam_size=1 is greedy."""
        results = []
        for start in range(0, len(images), batch_size):
            state = self.encode(ops.convert_to_tensor(images[start : start + batch_size]))
            state = {k: ops.convert_to_numpy(v) for k, v in state.items()}
            results += decoding.caption(self._keras_step, state, self.vocab, self.max_len + 1, self.grid, beam_size, alpha)
        return results

    def _keras_step(self, tokens, state, t):
        p, state, alpha, _ = self.step(ops.convert_to_tensor(tokens), state)
        state = {k: ops.convert_to_numpy(v) for k, v in state.items()}
        return np.log(np.maximum(ops.convert_to_numpy(p), 1e-30)), state, ops.convert_to_numpy(alpha)

    def picture(self, images, references, path, beam_size=3):
        """Write the paper's figure: each image with its attention map over it at every word."""
        from zoo.pictures import caption_picture

        return caption_picture(images, self.caption(images, beam_size=beam_size), path, references,
                               title=f"Show, Attend and Tell ({self.attention_kind} attention): α at each word")

    def get_config(self):
        return {
            **super().get_config(),
            "tokens": self.vocab.tokens,
            "attention": self.attention_kind,
            "image_shape": self.image_shape,
            "filters": self.filters,
            "kernels": self.kernels,
            "pool_last": self.pool_last,
            "backbone": self.backbone_name,
            "backbone_weights": self.backbone_weights,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "attention_units": self.attention_units,
            "max_len": self.max_len,
            "penalty": self.penalty,
            "entropy_weight": self.entropy_weight,
            "focus": self.focus,
            "init": self.init,
            "seed": self.seed,
        }
