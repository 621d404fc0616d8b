"""DRAW: a recurrent variational auto-encoder that draws an image over T steps
(Gregor, Danihelka, Graves, Rezende, Wierstra 2015, sections 2–3).

For t = 1 … T, with c_0 = 0 and h^dec_0 = 0:
    x̂_t = x − σ(c_{t−1})                                   error image
    r_t = read(x, x̂_t, h^dec_{t−1})                         Gaussian N × N glimpses, or [x, x̂_t] without attention
    h^enc_t = LSTM^enc(h^enc_{t−1}, [r_t, h^dec_{t−1}])
    z_t ~ Q(z_t | h^enc_t) = N(μ_t, σ_t²),  (μ_t, log σ_t) = W(h^enc_t)    reparameterised: z_t = μ_t + σ_t ε_t
    h^dec_t = LSTM^dec(h^dec_{t−1}, z_t)
    c_t = c_{t−1} + write(h^dec_t)                          Gaussian N × N patch, or W(h^dec_t) without attention
D(x | c_T) = Bernoulli(σ(c_T)).

Loss (nats per image): L = L^x + L^z, the negative variational bound on log p(x):
    L^x = −log D(x | c_T),   L^z = Σ_t KL(Q(z_t | h^enc_t) ‖ N(0, I)) = Σ_t ½ Σ_k (μ² + σ² − log σ² − 1).
Training with a KL warm-up (`kl_warmup` = S > 0) minimises L^x + β_s L^z at training step s, with
β_s = min(1, s / S): the T = 64 posterior with the paper's 2 × 2 / 5 × 5 grids collapses without it.
Generation: z_t ~ N(0, I), the decoder alone; `decode(noise)` runs it on given noise (T, latent_dim)
per image, which is also the exported generator's input.
"""

import keras
import numpy as np
from keras import layers, ops

from layers.filterbank import GaussianReader, GaussianWriter
from zoo import decoding
from zoo.models.base import check_images
from zoo.registry import register_model


@register_model(
    "draw",
    task="generator",
    summary="DRAW: recurrent VAE that draws with Gaussian filterbank read/write attention",
    paper="Gregor, Danihelka, Graves, Rezende, Wierstra. DRAW: A Recurrent Neural Network For Image Generation. ICML 2015",
    default_weights="binarized_fashion_mnist",
)
@keras.saving.register_keras_serializable(package="attention_zoo")
class Draw(keras.Model):
    """DRAW. `call(images)` → {"logits": c_T (B, H, W, C), "reconstruction": L^x (B,), "kl": L^z (B,)}
    in nats; `generate(n)` and `decode(noise)` draw new images; `bound(images)` is the test-set
    bound. `fit` on (images, anything) minimises L^x + L^z (labels are ignored).

    Args:
        image_shape: (H, W, C) of the binary images (values in {0, 1}, or in [0, 1] as Bernoulli means).
        steps: T, the drawing steps.
        units: LSTM units of the encoder and of the decoder (256 in the paper).
        latent_dim: size of each z_t (100 in the paper's MNIST model).
        attention: Gaussian read/write (True) or the whole image read and written every step.
        read_size, write_size: N of the read (2 on MNIST) and of the write (5).
        seed: seed of the sampling noise when none is given.
        kl_warmup: training steps over which the KL term's weight β rises linearly to 1 (0: β = 1);
            the steps taken are counted in a non-trainable weight, so a resumed run goes on where it was.
    """

    def __init__(self, image_shape=(28, 28, 1), steps=64, units=256, latent_dim=100, attention=True, read_size=2,
                 write_size=5, seed=0, kl_warmup=0, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(d) for d in image_shape)
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise ValueError(f"image_shape must be (height, width, channels); got {image_shape}")
        if min(int(steps), int(units), int(latent_dim), int(read_size), int(write_size)) < 1:
            raise ValueError(f"steps, units, latent_dim, read_size and write_size must be ≥ 1; "
                             f"got {steps}, {units}, {latent_dim}, {read_size}, {write_size}")
        self.steps, self.units, self.latent_dim = int(steps), int(units), int(latent_dim)
        self.attention, self.read_size, self.write_size = bool(attention), int(read_size), int(write_size)
        self.seed = int(seed)
        if int(kl_warmup) < 0:
            raise ValueError(f"kl_warmup must be ≥ 0 training steps; got {kl_warmup}")
        self.kl_warmup = int(kl_warmup)
        if self.kl_warmup:
            self.kl_steps = self.add_weight(shape=(), initializer="zeros", trainable=False, name="kl_steps")
        if self.attention:
            self.reader = GaussianReader(self.read_size, return_params=True, name="read")
            self.writer = GaussianWriter(self.write_size, self.image_shape, return_params=True, name="write")
        else:
            self.writer = layers.Dense(int(np.prod(self.image_shape)), name="write")
        self.encoder = layers.LSTMCell(self.units, name="encoder")
        self.decoder = layers.LSTMCell(self.units, name="decoder")
        self.posterior = layers.Dense(2 * self.latent_dim, name="posterior")
        self.noise = keras.random.SeedGenerator(self.seed)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")

    def _read(self, x, x_hat, h_dec):
        if self.attention:
            return self.reader(x, h_dec, x_hat)
        return ops.concatenate([x, x_hat], axis=-1), None

    def _write(self, h_dec):
        if self.attention:
            return self.writer(h_dec)
        return ops.reshape(self.writer(h_dec), (-1, *self.image_shape)), None

    def _zeros(self, batch):
        return [ops.zeros((batch, self.units)), ops.zeros((batch, self.units))]

    def check_noise(self, noise):
        shape = tuple(noise.shape)
        if len(shape) != 3 or shape[1:] != (self.steps, self.latent_dim):
            raise ValueError(f"model {self.name!r} expects noise of shape (batch, {self.steps}, {self.latent_dim}) "
                             f"(steps, latent_dim); got {shape}")
        return ops.cast(noise, "float32")

    def call(self, images, training=None, noise=None):
        x = check_images(self.name, images, self.image_shape)
        batch = ops.shape(x)[0]
        if noise is not None:
            noise = self.check_noise(noise)
        canvas = ops.zeros_like(x)
        enc, dec = self._zeros(batch), self._zeros(batch)
        kl = ops.zeros((batch,))
        for t in range(self.steps):
            x_hat = x - ops.sigmoid(canvas)
            r, _ = self._read(x, x_hat, dec[0])
            h_enc, enc = self.encoder(ops.concatenate([ops.reshape(r, (batch, -1)), dec[0]], axis=-1), enc,
                                      training=training)
            mu, log_sigma = ops.split(ops.cast(self.posterior(h_enc), "float32"), 2, axis=-1)
            eps = (keras.random.normal(ops.shape(mu), seed=self.noise) if noise is None else noise[:, t])
            z = mu + ops.exp(log_sigma) * eps
            kl = kl + 0.5 * ops.sum(ops.square(mu) + ops.exp(2.0 * log_sigma) - 2.0 * log_sigma - 1.0, axis=-1)
            h_dec, dec = self.decoder(z, dec, training=training)
            patch, _ = self._write(h_dec)
            canvas = canvas + patch
        reconstruction = ops.sum(ops.reshape(bernoulli_nll(x, canvas), (batch, -1)), axis=-1)
        if training and self.kl_warmup:  # s, this training step's number, for β_s in compute_loss
            self.kl_steps.assign_add(1.0)
        return {"logits": canvas, "reconstruction": reconstruction, "kl": kl}

    def _decode_step(self, z, dec, canvas):
        """One generator step: h^dec_t = LSTM^dec(h^dec_{t−1}, z_t), c_t = c_{t−1} + write(h^dec_t).
        Returns the decoder state, c_t and the write filterbank (None without attention)."""
        h_dec, dec = self.decoder(z, dec)
        patch, plot = self._write(h_dec)
        return dec, canvas + patch, plot

    def decode(self, noise):
        """The generator: noise (B, T, latent_dim) → canvases σ(c_t) (B, T, H, W, C) and, with
        attention, the write filterbank of every step ({"centre", "stride", …} (B, T, …))."""
        noise = self.check_noise(noise)
        batch = ops.shape(noise)[0]
        dec, canvas = self._zeros(batch), ops.zeros((batch, *self.image_shape))
        canvases, params = [], []
        for t in range(self.steps):
            dec, canvas, plot = self._decode_step(noise[:, t], dec, canvas)
            canvases.append(ops.sigmoid(canvas))
            params.append(plot)
        writes = {k: ops.stack([p[k] for p in params], axis=1) for k in params[0]} if self.attention else {}
        return ops.stack(canvases, axis=1), writes

    def decode_loop(self, noise):
        """`decode`'s canvases, the same numbers, as one `ops.fori_loop` over the steps: the exported
        generator holds one step in a TFLite WHILE instead of T unrolled copies. Step t reads z_t and
        stores σ(c_t) through the one-hot row e_t: z_t = Σ_s e_t[s] noise_s, canvases += e_t σ(c_t)
        (exact: the other rows add zeros)."""
        noise = self.check_noise(noise)
        batch = ops.shape(noise)[0]

        def step(t, state):
            h, c, canvas, canvases = state
            # e_t as a comparison, not ONE_HOT: int8 ONE_HOT wrote 1 in every row (measured: the canvases summed)
            row = ops.cast(ops.equal(ops.arange(self.steps), t), "float32")
            z = ops.sum(noise * row[None, :, None], axis=1)
            (h, c), canvas, _ = self._decode_step(z, [h, c], canvas)
            h, c, canvas = (ops.cast(v, "float32") for v in (h, c, canvas))  # one carry dtype under mixed precision
            canvases = canvases + ops.reshape(row, (1, -1, 1, 1, 1)) * ops.expand_dims(ops.sigmoid(canvas), 1)
            return h, c, canvas, canvases

        h, c = self._zeros(batch)
        canvas = ops.zeros((batch, *self.image_shape))
        return ops.fori_loop(0, self.steps, step, (h, c, canvas, ops.zeros((batch, self.steps, *self.image_shape))))[3]

    def generate(self, n, seed=0):
        """n new images: the canvas sequence (n, T, H, W, C) as NumPy, and the write filterbanks."""
        canvases, writes = self.decode(decoding.standard_noise(n, self.steps, self.latent_dim, seed))
        return np.asarray(canvases), {k: np.asarray(v) for k, v in writes.items()}

    def bound(self, images, seed=0):
        """Per image (NumPy): the variational bound's terms L^x and L^z in nats, with the posterior
        noise drawn from `seed` (the same numbers on every backend)."""
        out = self(images, noise=decoding.standard_noise(len(images), self.steps, self.latent_dim, seed))
        return np.asarray(out["reconstruction"]), np.asarray(out["kl"])

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """L^x + β L^z, averaged over the batch (nats per image; β = 1 but during a KL warm-up)."""
        beta = ops.minimum(1.0, self.kl_steps / self.kl_warmup) if training and self.kl_warmup else 1.0
        return ops.mean(y_pred["reconstruction"] + beta * y_pred["kl"])

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        self.reconstruction_tracker.update_state(y_pred["reconstruction"])
        self.kl_tracker.update_state(y_pred["kl"])
        return {m.name: m.result() for m in self.metrics}

    @property
    def metrics(self):
        # The loss (L^x + L^z), L^x and L^z; the compiled metrics do not apply (no labels).
        tracked = [self._loss_tracker] if getattr(self, "_loss_tracker", None) is not None else []
        return tracked + [self.reconstruction_tracker, self.kl_tracker]

    def build_for_inputs(self):
        self(ops.zeros((1, *self.image_shape)))
        self.decode(ops.zeros((1, self.steps, self.latent_dim)))

    def serving_signature(self):
        """The exported generator: noise (B, T, latent_dim) → final images σ(c_T) and every canvas."""

        def serve(noise):
            canvases = self.decode_loop(noise)
            return {"canvases": canvases, "images": canvases[:, -1]}

        return {"noise": (None, self.steps, self.latent_dim)}, serve

    def picture(self, images, labels, path):
        """Generated images drawn step by step, with the write grid (PNG); `images` and `labels`
        are not used (a generator draws from noise)."""
        from zoo.pictures import drawing_picture

        return drawing_picture(self, path)

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": self.image_shape,
            "steps": self.steps,
            "units": self.units,
            "latent_dim": self.latent_dim,
            "attention": self.attention,
            "read_size": self.read_size,
            "write_size": self.write_size,
            "seed": self.seed,
            "kl_warmup": self.kl_warmup,
        }


def bernoulli_nll(x, logits):
    """−log Bernoulli(x; σ(logits)) per pixel, stably: max(l, 0) − l·x + log(1 + e^−|l|)."""
    return ops.maximum(logits, 0.0) - logits * x + ops.log1p(ops.exp(-ops.abs(logits)))
