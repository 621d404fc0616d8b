"""Recurrent Attention Model (Mnih, Heess, Graves, Kavukcuoglu 2014).

For t = 0 … T−1:
    l_t ~ π(l | h_t) = N(μ_t, σ²I),  μ_t = tanh(Linear(h_t))     location network (h_0 = 0: a learned start)
    g_t = f_g(x, l_t)                                             glimpse network (layers.glimpse)
    h_{t+1} = ReLU(Linear(h_t) + Linear(g_t))                     core network (core="relu", the paper's)
    (h_{t+1}, c_{t+1}) = LSTM(g_t, (h_t, c_t))                     or core="lstm" (the paper's core for its game)
    b_t = Linear(h_t)                                             baseline
p(y | x) = softmax(Linear(h_T))                                   action network

Training (`fit`) minimises the hybrid loss
    L = −log p(y|x)  −  σ · Σ_t log π(l_t | h_t) · (R − b_t)  +  Σ_t (R − b_t)²,   R = 1[argmax p = y].
The sampled locations are cut from the graph (stop_gradient), so the classification loss never
reaches the location network: REINFORCE alone trains it. REINFORCE's gradient also flows on
into the core and glimpse networks (the paper's ∇_θ log π over all of θ): that is what teaches
the core state to hold where the item is. Its gradient at μ_t is (l_t − μ_t)/σ² · (R − b_t)
= ε/σ · (R − b_t), ε ~ N(0, 1); the factor σ brings it to the cross-entropy's scale. Unscaled,
its noise swamps Adam's moment estimates for the shared weights and classification stalls
(cluttered MNIST 5k, σ = 0.2, 100 epochs: 81% test error with weight 1, 78% with 0.5, 62% with
σ; 400 epochs: 17% with σ, 39% with the core cut off from REINFORCE). The baseline reads h_t through
stop_gradient: its squared error trains it alone. At inference the locations are the means μ_t
(deterministic); `mc_samples=M` averages p over M sampled episodes instead. Locations are
normalised: (0, 0) is the image centre and ±1 its edges, so σ is in units of half the image side.
"""

import keras
from keras import layers, ops

from layers.glimpse import GlimpseNetwork
from zoo.models.base import ImageClassifier
from zoo.registry import register_model


@register_model(
    "ram",
    task="classifier",
    summary="Recurrent Attention Model: k-scale glimpses chosen by a REINFORCE-trained policy",
    paper="Mnih, Heess, Graves, Kavukcuoglu. Recurrent Models of Visual Attention. NIPS 2014",
    default_weights="cluttered100_fashion_mnist_lstm",
)
@keras.saving.register_keras_serializable(package="attention_zoo")
class RecurrentAttentionModel(ImageClassifier):
    """RAM classifier. `call(images, return_attention=True)` also returns locations and patches.

    Args:
        glimpses: T, the number of glimpses.
        glimpse_size, scales: the retina's g and k.
        std: σ of the Gaussian location policy (normalised units).
        glimpse_units, location_units, hidden_units: widths of h_g, h_l and the core (128, 128, 256 in the paper).
        core: "relu" (h_{t+1} = ReLU(Linear(h_t) + Linear(g_t)), the paper's classification core) or "lstm".
        random_glimpses: the paper's control: locations uniform in [−1, 1]², no policy.
        mc_samples: M sampled episodes averaged at inference (1 = the deterministic mean path).
        seed: seed of the inference-time randomness (random glimpses, MC samples).
    """

    # The glimpse loop amplifies float rounding: a location off by ε reads a patch off by ~ε,
    # which moves the next location by a few ε (×4 a glimpse, measured on trained weights).
    # After 8 glimpses Keras on TensorFlow and on JAX differ by up to 7.6e-3 in probability, and
    # the TFLite file of ram:cluttered100_fashion_mnist by up to 2.5e-2 from Keras on its 256
    # check images (one conversion; another gave 6.7e-3). And since the policy reads the image, an
    # input whose path passes near a decision boundary of the location network can take another
    # path: once REINFORCE shaped the core, Keras on TensorFlow and on JAX differ by more than
    # 5e-2 or in class on 0.7% of the first 2,000 test images of ram:cluttered100_fashion_mnist
    # (the TFLite file on 1 of its 256 check images, the SavedModel on 3). An export is held to
    # 5e-2 and the same top-1 class on 98% of its check images; its test accuracy is measured
    # beside Keras's.
    export_atol = 5e-2
    export_matching = 0.98
    # Full int8 keeps the LSTM's gates (LOGISTIC, TANH, SPLIT) in float beside the export's default
    # float ops: measured on cluttered100_fashion_mnist_lstm's 10,000 test images, −0.39 points
    # against −0.67 with them in int8 (`python benchmarks/int8_debug.py ram --float-ops LOGISTIC
    # TANH SPLIT`); every quantized op is then within 0.55 int8 steps of float.
    int8_float_ops = ("LOGISTIC", "TANH", "SPLIT")
    # ... and one scale per weight tensor: each of the 8 unrolled glimpses stores its own int32 biases,
    # and per channel their scales (4 + 8 bytes a channel) are 58 KiB of a 482 KiB file (0.38 of
    # fp32). Measured on cluttered100_fashion_mnist_lstm: 425 KiB (0.33 of fp32's 1,277), −0.26
    # points on its 10,000 test images against −0.20 per channel (`python benchmarks/int8_size.py
    # --models ram`).
    int8_per_channel = False

    def __init__(
        self,
        image_shape=(100, 100, 1),
        num_classes=10,
        glimpses=8,
        glimpse_size=12,
        scales=3,
        std=0.2,
        glimpse_units=128,
        location_units=128,
        hidden_units=256,
        core="relu",
        random_glimpses=False,
        mc_samples=1,
        seed=0,
        class_names=None,
        **kwargs,
    ):
        super().__init__(image_shape, num_classes, class_names, **kwargs)
        if int(glimpses) < 1 or int(mc_samples) < 1 or float(std) <= 0:
            raise ValueError(f"glimpses and mc_samples must be ≥ 1 and std > 0; got {glimpses}, {mc_samples}, {std}")
        if core not in ("relu", "lstm"):
            raise ValueError(f"core must be 'relu' (the paper's) or 'lstm'; got {core!r}")
        self.glimpses, self.glimpse_size, self.scales = int(glimpses), int(glimpse_size), int(scales)
        self.std, self.hidden_units = float(std), int(hidden_units)
        self.glimpse_units, self.location_units, self.core = int(glimpse_units), int(location_units), core
        self.random_glimpses, self.mc_samples, self.seed = bool(random_glimpses), int(mc_samples), int(seed)
        self.glimpse_net = GlimpseNetwork(glimpse_size, scales, glimpse_units, location_units, hidden_units, name="glimpse")
        if core == "lstm":
            self.core_lstm = layers.LSTMCell(self.hidden_units, name="core_lstm")
        else:
            self.core_h = layers.Dense(self.hidden_units, name="core_h")
            self.core_g = layers.Dense(self.hidden_units, use_bias=False, name="core_g")
        self.locator = layers.Dense(2, activation="tanh", name="location")
        self.action = layers.Dense(self.num_classes, activation="softmax", name="action")
        self.baseline = layers.Dense(1, name="baseline")
        self.noise = keras.random.SeedGenerator(self.seed)

    def episode(self, images, sample, seed=None):
        """One pass of T glimpses. Returns p(y|x), locations (B,T,2), log π (B,T), baselines (B,T), patches."""
        batch = ops.shape(images)[0]
        seed = self.noise if seed is None else seed
        h = ops.zeros((batch, self.hidden_units))
        c = ops.zeros_like(h)  # the LSTM core's cell state
        pyramid = self.glimpse_net.sensor.pyramid(images)  # built once, read by every glimpse
        locations, log_pi, baselines, patches = [], [], [], []
        for t in range(self.glimpses):
            # An integer seed (inference) would draw the same numbers at every step: offset it by t.
            step_seed = seed + t if isinstance(seed, int) else seed
            mean = ops.cast(self.locator(h), "float32")  # the policy in float32
            if self.random_glimpses:
                location = keras.random.uniform((batch, 2), -1.0, 1.0, seed=step_seed)
            elif sample:
                location = ops.clip(mean + self.std * keras.random.normal((batch, 2), seed=step_seed), -1.0, 1.0)
            else:
                location = mean
            location = ops.stop_gradient(location)
            if self.random_glimpses:  # no policy: nothing for REINFORCE to train
                log_pi.append(ops.zeros((batch,)))
            else:
                log_pi.append(-ops.sum(ops.square(location - mean), axis=-1) / (2.0 * self.std**2))
            baselines.append(ops.cast(ops.squeeze(self.baseline(ops.stop_gradient(h)), -1), "float32"))
            g, patch = self.glimpse_net(pyramid, location, return_patches=True)
            if self.core == "lstm":
                h, (_, c) = self.core_lstm(g, [h, c])
            else:
                h = ops.relu(self.core_h(h) + self.core_g(g))
            locations.append(location)
            patches.append(patch)
        probabilities = self.action(h)
        return probabilities, ops.stack(locations, 1), ops.stack(log_pi, 1), ops.stack(baselines, 1), ops.stack(patches, 1)

    def call(self, images, training=None, return_attention=False):
        images = self.check_images(images)
        if training:
            probabilities, _, log_pi, baselines, _ = self.episode(images, sample=True)
            return {"probabilities": probabilities, "log_pi": log_pi, "baseline": baselines}
        if self.mc_samples > 1:
            batch = ops.shape(images)[0]
            tiled = ops.tile(images, (self.mc_samples, 1, 1, 1))  # sample-major: [x, x, …]
            probabilities, locations, _, _, patches = self.episode(tiled, sample=True, seed=self.seed)
            probabilities = ops.mean(ops.reshape(probabilities, (self.mc_samples, batch, self.num_classes)), 0)
            locations, patches = locations[:batch], patches[:batch]  # the first episode, for plots
        else:
            seed = self.seed if self.random_glimpses else None
            probabilities, locations, _, _, patches = self.episode(images, sample=False, seed=seed)
        if return_attention:
            return probabilities, {"locations": locations, "patches": patches}
        return probabilities

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Cross-entropy + σ·REINFORCE with the learned baseline + the baseline's squared error."""
        labels = ops.cast(ops.reshape(y, (-1,)), "int32")
        if not isinstance(y_pred, dict):  # evaluate(): the deterministic path has no policy terms
            return ops.mean(keras.losses.sparse_categorical_crossentropy(labels, ops.cast(y_pred, "float32")))
        probabilities = ops.cast(y_pred["probabilities"], "float32")  # the loss in float32 under mixed precision
        cross_entropy = ops.mean(keras.losses.sparse_categorical_crossentropy(labels, probabilities))
        reward = ops.cast(ops.equal(ops.cast(ops.argmax(probabilities, -1), "int32"), labels), "float32")
        reward = ops.expand_dims(ops.stop_gradient(reward), 1)
        advantage = ops.stop_gradient(reward - y_pred["baseline"])
        reinforce = -self.std * ops.mean(ops.sum(y_pred["log_pi"] * advantage, axis=1))
        baseline_error = ops.mean(ops.sum(ops.square(reward - y_pred["baseline"]), axis=1))
        return cross_entropy + reinforce + baseline_error

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if isinstance(y_pred, dict):
            y_pred = y_pred["probabilities"]
        return super().compute_metrics(x, y, y_pred, sample_weight)

    def picture(self, images, labels, path):
        """The glimpse path on each image, and the k-scale patches of every glimpse (PNG)."""
        from zoo.pictures import glimpse_picture

        return glimpse_picture(self, images, labels, path)

    def get_config(self):
        return {
            **super().get_config(),
            "glimpses": self.glimpses,
            "glimpse_size": self.glimpse_size,
            "scales": self.scales,
            "std": self.std,
            "glimpse_units": self.glimpse_units,
            "location_units": self.location_units,
            "hidden_units": self.hidden_units,
            "core": self.core,
            "random_glimpses": self.random_glimpses,
            "mc_samples": self.mc_samples,
            "seed": self.seed,
        }
