"""Training recipes: one named, fixed configuration per pretrained weight.

A recipe says which model, which weights tag it produces, on which dataset, with which
options and optimiser. `zoo train NAME` runs it; `zoo eval MODEL --weights TAG --write`
measures the card's test metrics. Most recipes are sized for the 2-core CPU this project
trains on; the RAM recipes on cluttered Fashion-MNIST and MNIST 5k ran on one H100 (JAX
backend). The cards state the hardware, backend and wall time.

A recipe is stored here once: the `MODEL.TAG.recipe.json` beside a card is the recipe as its run
used it, and tests/recipes/test_recipe_agreement.py holds it equal to the recipe of that name, or
the card says why that recipe no longer trains its weights (`recipe_retired`).
"""

import dataclasses
import json
import re
from pathlib import Path

from zoo.registry import did_you_mean


@dataclasses.dataclass(frozen=True)
class Recipe:
    name: str
    model: str
    tag: str
    data: str
    config: dict
    epochs: int
    batch_size: int = 128
    learning_rate: float = 1e-3
    seed: int = 0
    baseline: str | None = None  # recipe whose weights this one is compared with
    description: str = ""
    mixed_precision: str | None = None  # a Keras dtype policy: "mixed_float16" or "mixed_bfloat16"
    fresh_data: bool = False  # a new draw of the data variant every epoch (`data.fresh_draws`)
    clipnorm: float | None = None  # clip each gradient's norm (Adam's `clipnorm`)
    reference: int | None = None  # captioners: train on this reference of every scene, not a random one
    initial_weights: str | None = None  # a tag of the same model: the run starts from those weights (a fine-tune)


# ST-CNN: the transformer zooms onto a 28×28 canonical view, classified by a small CNN.
_STN = {"filters": (16, 32), "kernel_size": 5, "units": 128, "output_size": (28, 28), "transform": "affine"}
# The CNN baseline sees the full 42×42 image; `units` is chosen so that its parameter count
# matches the ST-CNN's (115,893 vs 116,098): the same budget.
_CNN = {"filters": (16, 32), "kernel_size": 5, "units": 65}


def ram_family(data, epochs, scales, cnn_units, pool_size, description, lstm_units=None):
    """RAM with 8 (the tag without suffix), 6 and 4 glimpses, RAM with random glimpses, and the
    same-budget CNN: the paper's comparison, one dataset, one schedule. Glimpses are 12×12 at
    `scales` scales, so the coarsest patch (12·2^(k−1) px) sees most of the image. Every epoch
    draws the variant anew (new positions and clutter): a fixed draw of MNIST 5k's 4,000 digits
    is memorised (RAM 73%, CNN 55% test error on cluttered 100×100 when trained on one draw).
    `lstm_units` adds `_lstm`: 8 glimpses with an LSTM core of that width instead of the paper's
    ReLU core; `_lstm_6g` and `_lstm_4g`, the same with 6 and 4 glimpses; and `_lstm_random`, with
    random glimpses (142 units keep RAM at its budget: 274,473 parameters against 274,701 on
    100×100, 256,041 against 256,269 on 60×60). The location policy's std has been 0.2 since
    commit 90a836a; three `_random` cards (cluttered 100×100 and translated 60×60 Fashion-MNIST,
    translated MNIST 5k) ran at 0.1 and are marked retired (with random glimpses std enters neither
    the loss nor its gradients)."""
    ram = {"glimpses": 8, "glimpse_size": 12, "scales": scales, "std": 0.2}
    variants = [("", {}), ("_6g", {"glimpses": 6}), ("_4g", {"glimpses": 4}), ("_random", {"random_glimpses": True})]
    if lstm_units:
        lstm = {"core": "lstm", "hidden_units": lstm_units}
        variants += [("_lstm", lstm), ("_lstm_6g", {**lstm, "glimpses": 6}), ("_lstm_4g", {**lstm, "glimpses": 4}),
                     ("_lstm_random", {**lstm, "random_glimpses": True})]
    recipes = [
        Recipe(f"ram_{data}{suffix}", "ram", f"{data}{suffix}", data, {**ram, **change}, epochs,
               baseline=f"cnn_{data}", description=f"RAM {description}, {change or '8 glimpses'}", fresh_data=True)
        for suffix, change in variants
    ]
    cnn = {"filters": (16, 32), "kernel_size": 5, "units": cnn_units, "pool_size": pool_size}
    return recipes + [Recipe(f"cnn_{data}", "cnn", data, data, cnn, epochs, fresh_data=True,
                             description=f"CNN baseline with RAM's parameter budget, {description}")]


def seq2seq_family(epochs):
    """Bahdanau, the five Luong attentions and the no-attention baseline on the dates data: one
    architecture (bidirectional GRU 2×64, GRU decoder 128), one schedule; local attention uses
    the paper's window D = 10."""
    base = {"embedding_dim": 32, "units": 64, "attention_units": 64, "window": 10, "max_source_len": 40,
            "max_target_len": 11}
    return [
        Recipe(f"seq2seq_dates_{kind}", "seq2seq", f"dates_{kind}", "dates", {**base, "attention": kind}, epochs,
               learning_rate=3e-3, baseline=None if kind == "none" else "seq2seq_dates_none",
               description=f"dates → ISO 8601, attention {kind!r}")
        for kind in ("bahdanau", "luong_dot", "luong_general", "luong_concat", "local_m", "local_p", "none")
    ]


def parity_family(bits, units, depth, epochs, batch_size, learning_rate):
    """k-bit parity (Kalchbrenner et al. 2015, section 4.1), one pair per k in `bits`: the tied
    1-LSTM (d = `units`, N = `depth` blocks sharing one W, all k bits projected at once into the
    first block) and its baseline, the paper's tied ReLU feed-forward net of the same depth and
    width 2d, which has exactly the same parameter count; one schedule for both."""
    recipes = []
    for k in bits:
        grid = {"units": units, "depth": depth, "cell": "lstm", "tied": True}
        ffn = {"units": 2 * units, "depth": depth, "cell": "relu", "tied": True}
        recipes += [
            Recipe(f"grid_lstm_parity_{k}", "grid_lstm", f"parity_{k}", f"parity_{k}", grid, epochs, batch_size,
                   learning_rate, baseline=f"grid_lstm_parity_{k}_ffn",
                   description=f"{k}-bit parity, tied 1-LSTM d={units}, depth {depth}"),
            Recipe(f"grid_lstm_parity_{k}_ffn", "grid_lstm", f"parity_{k}_ffn", f"parity_{k}", ffn, epochs,
                   batch_size, learning_rate,
                   description=f"{k}-bit parity, tied ReLU FFN width {2 * units}, depth {depth} (same parameters)"),
        ]
    return recipes


def language_model_family(data, units, depth, stacked_units, epochs, batch_size, learning_rate):
    """Character-level language models on a corpus (Kalchbrenner et al. 2015, section 4.4): the tied
    2-LSTM (time × depth, d = `units`, `depth` blocks sharing one W) and the stacked LSTM it replaces
    (`depth` LSTM layers of `stacked_units`, chosen for the same parameter count), one schedule."""
    grid = {"units": units, "depth": depth, "cell": "grid", "tied": True}
    stacked = {"units": stacked_units, "depth": depth, "cell": "stacked"}
    return [
        Recipe(f"grid_lstm_lm_{data}", "grid_lstm_lm", data, data, grid, epochs, batch_size, learning_rate,
               baseline=f"grid_lstm_lm_{data}_stacked", clipnorm=1.0,
               description=f"character LM on {data}, tied 2-LSTM d={units}, depth {depth}"),
        Recipe(f"grid_lstm_lm_{data}_stacked", "grid_lstm_lm", f"{data}_stacked", data, stacked, epochs, batch_size,
               learning_rate, clipnorm=1.0,
               description=f"character LM on {data}, {depth} stacked LSTM layers of {stacked_units} (same parameters)"),
    ]


def grid_image_family(data, epochs, units, depth, patch_size, cnn_units):
    """The tied 3-LSTM over non-overlapping patches (Kalchbrenner et al. 2015, section 4.5) and the
    2-layer CNN with the same parameter budget (`cnn_units` hidden units), one schedule."""
    grid = {"units": units, "depth": depth, "patch_size": patch_size, "tied": True}
    cnn = {"filters": (16, 32), "kernel_size": 5, "units": cnn_units}
    return [
        Recipe(f"grid_lstm_image_{data}", "grid_lstm_image", data, data, grid, epochs, clipnorm=1.0,
               baseline=f"cnn_{data}",
               description=f"tied 3-LSTM d={units}, depth {depth}, over {patch_size}×{patch_size} patches of {data}"),
        Recipe(f"cnn_{data}", "cnn", data, data, cnn, epochs, clipnorm=1.0,
               description=f"CNN baseline with the 3-LSTM's parameter budget, same schedule, {data}"),
    ]


def show_attend_tell_family(data, epochs):
    """Soft attention, hard attention and the no-attention baseline (Show and Tell: one global
    image vector) on captioned scenes: one encoder (3 conv layers 16-32-64, an 8×8 grid of
    annotations for 64×64 scenes), one LSTM decoder (128 units), one schedule. Every epoch draws
    new scenes (seed + epoch), each captioned by its first reference (reading order,
    `reference=0`): trained on a random one of the 5, whose item orders differ, soft attention
    hedged between the items it might name next and its peak was on another item for 15% of the
    object words (docs/models/show_attend_tell.md).

    λ = 0.005 for the doubly stochastic penalty (our cross-entropy is per word, the paper's per
    caption; at 0.05 the penalty, smallest for uniform attention when a caption has fewer words
    than the grid has cells, ~21 against 64, was ~70% of the loss and kept attention diffuse).
    The decoder starts from h_0 = c_0 = 0 (`init="zeros"`) rather than the paper's mean
    annotation: level with it at 48 epochs, and at 12 epochs it did not fail where a run from
    the mean annotation named wrong items from fixed attention.

    Soft attention trains with seed 1, chosen over seed 0 (the other two's) on validation
    grounding: 1,000 scenes of training items drawn with seed 1000, greedy, 91.2% against 85.8%
    (docs/models/show_attend_tell.md: two seeds of one recipe differ by 2–5 points of grounding)."""
    base = {"filters": (16, 32, 64), "embedding_dim": 32, "units": 128, "attention_units": 64, "penalty": 0.005,
            "entropy_weight": 0.01, "init": "zeros"}
    return [
        Recipe(f"show_attend_tell_{data}_{kind}", "show_attend_tell", f"{data}_{kind}", data,
               {**base, "attention": kind}, epochs, batch_size=64, learning_rate=2e-3, seed=1 if kind == "soft" else 0,
               fresh_data=True, reference=0,
               baseline=None if kind == "none" else f"show_attend_tell_{data}_none",
               description=f"captions of {data}, {kind} attention")
        for kind in ("soft", "hard", "none")
    ]


def vqa_family(data, epochs, seeds=(0,), suffix="", answer_units=0, supervised=False):
    """Stacked attention with two hops (the default tag), one hop, no attention (the mean of the
    image's grid stands for the attended vector) and the blind, question-only model on questions
    about generated scenes: one CNN (3 conv layers 16-32-64, an 8×8 grid of 64-d image vectors for
    64×64 scenes), one question LSTM (64 units), one schedule; each variant with every seed of
    `seeds` (tags `_seedN` for N > 0), so that the order of the four is judged against the seed
    spread. `suffix` names a longer schedule (`_60e`). `answer_units` > 0 puts one ReLU layer of that
    width before the answer softmax (tags `_mlp`): the paper's linear answer layer cannot tell "is
    there a coat?" from u = ṽ + v_Q, which needs the question's class matched with the attended one.
    `supervised` adds two hops whose maps also learn from the items' boxes (attention_supervision
    λ = 1, tags `_supervised`), compared with the two hops that learn from the answers alone."""
    base = {"filters": (16, 32, 64), "embedding_dim": 32, "units": 64, "attention_units": 32, "dropout": 0.2,
            **({"answer_units": answer_units} if answer_units else {})}
    head = "_mlp" if answer_units else ""
    variants = {"": {"hops": 2}, "_1hop": {"hops": 1}, "_none": {"hops": 0}, "_blind": {"hops": 0, "use_image": False},
                **({"_supervised": {"hops": 2, "attention_supervision": 1.0}} if supervised else {})}
    baselines = {"": "_none", "_1hop": "_none", "_blind": "_none", "_supervised": ""}
    name = data.removeprefix("vqa_")
    seeded = lambda seed: "" if seed == 0 else f"_seed{seed}"  # noqa: E731
    return [
        Recipe(f"vqa_{name}{variant}{head}{suffix}{seeded(seed)}", "vqa", f"{name}{variant}{head}{suffix}{seeded(seed)}",
               data, {**base, **change}, epochs, seed=seed,
               baseline=None if variant == "_none" else f"vqa_{name}{baselines[variant]}{head}{suffix}{seeded(seed)}",
               description=f"questions about {name}, {change['hops']} hop(s)"
               + ("" if change.get("use_image", True) else ", question only (blind)")
               + (", attention learnt from the items' boxes as well" if change.get("attention_supervision") else "")
               + (f", a ReLU layer of {answer_units} before the answer" if answer_units else ""))
        for variant, change in variants.items() for seed in seeds
    ]

def draw_classifier_family(data, epochs, description):
    """DRAW's differentiable RAM with 8 and 4 glimpses of 12 × 12 (the paper's cluttered setting)
    on RAM's data and schedule (every epoch a new draw), compared with RAM's CNN baseline. 198 LSTM
    units instead of the paper's 256 put it at RAM's and the CNN's budget (274,641 parameters
    against 274,701 and 273,558). Gradients clipped to norm 1: a first run without clipping reached
    73% training accuracy in 14 epochs, then collapsed to 25% in two; on Fashion-MNIST a 50-epoch
    cosine schedule from 1e-3 collapsed at epoch 6 even clipped (72% → 25%), hence 5e-4 on both
    (cluttered MNIST 5k took 100 epochs from 1e-3 before it took RAM's 400: 13.60%, 4 glimpses 15.70%)."""
    base = {"glimpses": 8, "read_size": 12, "units": 198}
    return [
        Recipe(f"draw_classifier_{data}{suffix}", "draw_classifier", f"{data}{suffix}", data, {**base, **change},
               epochs, learning_rate=5e-4, baseline=f"cnn_{data}", fresh_data=True, clipnorm=1.0,
               description=f"DRAW classifier {description}, {change or '8 glimpses'}")
        for suffix, change in (("", {}), ("_4g", {"glimpses": 4}))
    ]


def draw_family(data, epochs, description):
    """DRAW with Gaussian attention and without (the whole image read and written every step),
    one architecture and schedule: T = 16 steps, 128-unit LSTMs, z of 100 per step. The paper's
    MNIST model (T = 64, 256 units) costs ~4× more a step than the 2-core CPU these recipes are
    sized for allows; with 4× fewer steps the read and write grow from the paper's 2 × 2 and
    5 × 5 to 5 × 5 and 8 × 8, so that 16 reads see (2 · 25 · 16 = 800 numbers) and 16 writes
    cover (64 · 16 = 1,024) about as much as one 28 × 28 image. Gradients clipped to norm 10."""
    base = {"steps": 16, "units": 128, "latent_dim": 100, "read_size": 5, "write_size": 8}
    return [
        Recipe(f"draw_{data}{suffix}", "draw", f"{data}{suffix}", data, {**base, "attention": attention}, epochs,
               learning_rate=1e-3, clipnorm=10.0, baseline=None if suffix else f"draw_{data}_no_attention",
               description=f"DRAW {description}, {'Gaussian read 5×5 / write 8×8' if attention else 'no attention'}")
        for suffix, attention in (("", True), ("_no_attention", False))
    ]


def handwriting_family(data, epochs, units, layers, size=""):
    """Graves' handwriting synthesis (2013, section 5) on pen trajectories and its baseline, the same
    network without the soft window (section 4's unconditional model, `conditional=False`): one size
    (`layers` LSTMs of `units`, 20 output Gaussians, 10 window Gaussians), one schedule (batch 64,
    Adam with gradients clipped to norm 10: the loss is summed over a line's ~200 points and Graves
    clipped too). The conditional model's test NLL against the baseline's says what reading the
    text buys. GPU recipes: on the shared 2-core CPU a step of 64 lines (padded to 388 points) took
    ~5 s with TensorFlow and ~3 s with JAX, so an epoch of 20,000 lines ~15-30 minutes, 30 epochs a day.
    Training batches lines of about one length (`data.LengthBuckets`), which cuts that ~2×. `size`
    names a smaller family (e.g. "_128": the tags `strokes_kjv_128` and `strokes_kjv_128_unconditional`)."""
    base = {"units": units, "layers": layers, "components": 20, "window": 10}
    name = data.removeprefix("strokes_")
    return [
        Recipe(f"handwriting_{data}{size}{suffix}", "handwriting", f"{data}{size}{suffix}", data,
               {**base, "conditional": conditional}, epochs, batch_size=64, clipnorm=10.0,
               baseline=None if suffix else f"handwriting_{data}{size}_unconditional",
               description=f"handwriting of {name} lines, {layers} LSTMs of {units}, "
                           + ("soft window over the text" if conditional else "unconditional (no text): the baseline"))
        for suffix, conditional in (("", True), ("_unconditional", False))
    ]


def handwriting_fine_tunes(shipped, noises=(0.0, 0.1, 0.3), epochs=2):
    """Two more epochs from the shipped weights `shipped` (a handwriting tag; Adam, cosine decay from
    3e-4, the family's batch and clipping), with Gaussian noise of σ on the offsets the network reads
    (`input_noise`; σ = 0: the control, more training alone): does reading points that are not exactly
    the data's, as its own samples are not (exposure bias), make the written lines readable? Tags
    `{shipped}_tuned` and `{shipped}_tuned_noise{100σ}`; measured in docs/models/handwriting.md."""
    base, tunes = RECIPES[f"handwriting_{shipped}"], []
    for noise in noises:
        tag = f"{shipped}_tuned" + (f"_noise{round(100 * noise)}" if noise else "")
        tunes.append(dataclasses.replace(
            base, name=f"handwriting_{tag}", tag=tag, config={**base.config, "input_noise": noise}, epochs=epochs,
            learning_rate=3e-4, initial_weights=shipped, baseline=None,
            description=f"{base.description}; {epochs} epochs more from {shipped}, input noise σ {noise:g}"))
    return tunes


def gpu_campaign_recipes():
    """Longer schedules and the papers' settings, for GPU campaigns (`recipes/campaigns/gpu.json`,
    run by `python -m recipes.campaign`): what the 2-core CPU cannot fit.

    * RAM's 142-unit LSTM core and its same-budget CNN on cluttered 100×100 Fashion-MNIST, 300
      epochs each (on the CPU, 200 epochs of RAM reached 19.16% and 100 of the CNN 12.22%);
    * DRAW at the paper's MNIST setting, T = 64, 256-unit LSTMs, 2×2 read and 5×5 write, with and
      without attention, its KL term's weight raised linearly over the first 5,000 updates (on the
      CPU the T = 64 posterior collapsed without a warm-up and held with one of 1,120 updates);
    * the DRAW classifier on the same data, by the same 300-epoch schedule;
    * k-bit parity at 32 and 64 bits with wider, deeper tied 1-LSTMs and their same-budget ReLU nets;
    * issue 33's stacked attention: the four VQA variants for 60 epochs with seeds 0, 1 and 2 on the
      Fashion-MNIST scenes (on the CPU, 10 epochs left the two-hop model under-fitted: 74% on its
      training questions), and with seed 0 on the MNIST 5k scenes (digits are told apart more surely)."""
    ram = ram_family("cluttered100_fashion_mnist", 300, 4, 100, 3, "on 100×100 cluttered Fashion-MNIST (8 fragments)",
                     lstm_units=142)
    by_name = {r.name: r for r in ram}
    cnn = dataclasses.replace(by_name["cnn_cluttered100_fashion_mnist"], name="cnn_cluttered100_fashion_mnist_300e",
                              tag="cluttered100_fashion_mnist_300e")
    ram_lstm = dataclasses.replace(by_name["ram_cluttered100_fashion_mnist_lstm"],
                                   name="ram_cluttered100_fashion_mnist_lstm_300e",
                                   tag="cluttered100_fashion_mnist_lstm_300e", baseline=cnn.name)
    draw = {"steps": 64, "units": 256, "latent_dim": 100, "read_size": 2, "write_size": 5, "kl_warmup": 5000}
    draws = [
        Recipe(f"draw_binarized_fashion_mnist_t64{suffix}", "draw", f"binarized_fashion_mnist_t64{suffix}",
               "binarized_fashion_mnist", {**draw, "attention": attention}, 60, clipnorm=10.0,
               baseline=None if suffix else "draw_binarized_fashion_mnist_t64_no_attention",
               description=f"DRAW at the paper's setting (T = 64, 256 units, "
                           f"{'read 2×2 / write 5×5' if attention else 'no attention'}), KL warm-up over 5,000 updates")
        for suffix, attention in (("", True), ("_no_attention", False))
    ]
    draw_classifier = [dataclasses.replace(r, name=f"{r.name}_300e", tag=f"{r.tag}_300e", baseline=cnn.name)
                       for r in draw_classifier_family("cluttered100_fashion_mnist", 300, "on 100×100 cluttered "
                                                       "Fashion-MNIST (8 fragments)") if not r.name.endswith("_4g")]
    parity = [*parity_family((32,), units=64, depth=12, epochs=20, batch_size=128, learning_rate=3e-3),
              *parity_family((64,), units=128, depth=16, epochs=20, batch_size=128, learning_rate=3e-3)]
    parity = [dataclasses.replace(r, name=f"{r.name}_wide", tag=f"{r.tag}_wide", clipnorm=1.0,
                                  baseline=r.baseline and f"{r.baseline}_wide") for r in parity]
    # VQA with a ReLU layer before the answer: at 10 epochs it took "is there a …?" from chance to 67%.
    vqa = [*vqa_family("vqa_scenes_fashion_mnist", 60, seeds=(0, 1, 2), suffix="_60e", answer_units=128),
           *vqa_family("vqa_scenes_mnist5k", 60, seeds=(0, 1, 2), suffix="_60e", answer_units=128, supervised=True)]
    return [ram_lstm, cnn, *draws, *draw_classifier, *parity, *vqa]


# RAM's retina by image size at the cost-vs-size recipes: the coarsest 12·2^(k−1)-px patch sees
# most of the image (96 of 100, 192 of 200, 384 of 400), the rule of `ram_family`'s scales.
SIZE_SCALES = {200: 5, 400: 6}
# The equal-compute CNN: an average-pooled 50×50 view (×4 at 200 px, ×8 at 400) through the 100-px
# baseline's layers, 2,425,000 MACs per image against RAM's 2,350,920 (200 px) and 2,578,376 (400 px).
EQUAL_MACS_CNN = {"filters": (16, 32), "kernel_size": 5, "units": 100, "pool_size": 3}
# The same-parameter CNN at full resolution, 200 px: 292,834 parameters against RAM's 292,905.
SAME_PARAMETERS_CNN_200 = {"filters": (16, 32), "kernel_size": 5, "units": 72, "pool_size": 4}


def cost_vs_size_recipes(epochs=300):
    """Issue 32, RAM's cost against image size, for the GPU queue: on cluttered Fashion-MNIST and
    MNIST 5k at 200 and 400 px (streamed data, every batch drawn anew), RAM with the 142-unit LSTM
    core and 8 glimpses (`SIZE_SCALES`), the CNN with RAM's multiply-accumulates (`EQUAL_MACS_CNN`,
    `downsample` = size / 50) and, at 200 px, the CNN with RAM's parameters at full resolution;
    the schedule of the 100-px `_300e` recipes (300 epochs, batch 128, Adam from 1e-3, cosine)."""
    recipes = []
    for base, label in (("fashion_mnist", "Fashion-MNIST"), ("mnist5k", "MNIST 5k")):
        for size in SIZE_SCALES:
            data = f"cluttered{size}_{base}"
            where = f"on {size}×{size} cluttered {label} ({8 * size * size // 10000} fragments)"
            cnn = Recipe(f"cnn_{data}_equal_macs_{epochs}e", "cnn", f"{data}_equal_macs_{epochs}e", data,
                         {**EQUAL_MACS_CNN, "downsample": size // 50}, epochs, fresh_data=True,
                         description=f"CNN with RAM's multiply-accumulates (a {size // 50}× average-pooled "
                                     f"front end), {where}")
            ram = {"glimpses": 8, "glimpse_size": 12, "scales": SIZE_SCALES[size], "std": 0.2, "core": "lstm",
                   "hidden_units": 142}
            recipes += [Recipe(f"ram_{data}_lstm_{epochs}e", "ram", f"{data}_lstm_{epochs}e", data, ram, epochs,
                               baseline=cnn.name, fresh_data=True,
                               description=f"RAM (LSTM core, 8 glimpses, {SIZE_SCALES[size]} scales) {where}"), cnn]
            if size == 200:
                recipes.append(Recipe(f"cnn_{data}_{epochs}e", "cnn", f"{data}_{epochs}e", data,
                                      SAME_PARAMETERS_CNN_200, epochs, fresh_data=True,
                                      description=f"CNN with RAM's parameters at full resolution, {where}"))
    return recipes


RECIPES = {
    r.name: r
    for r in [
        # RAM's CNN baselines: `units` puts them within 1% of RAM's parameters (274,701 with
        # 4 scales on 100×100, 256,269 with 3 on 60×60).
        *ram_family("cluttered100_fashion_mnist", 50, 4, 100, 3, "on 100×100 cluttered Fashion-MNIST (8 fragments)",
                    lstm_units=142),
        *ram_family("translated60_fashion_mnist", 8, 3, 53, 2, "on 60×60 translated Fashion-MNIST", lstm_units=142),
        *ram_family("cluttered100_mnist5k", 400, 4, 100, 3, "on 100×100 cluttered MNIST 5k (8 fragments)",
                    lstm_units=142),
        *ram_family("translated60_mnist5k", 100, 3, 53, 2, "on 60×60 translated MNIST 5k", lstm_units=142),
        *seq2seq_family(epochs=4),
        # Online only (TFDS download): the same model on real sentences, word level, 8k words a side.
        Recipe("seq2seq_ted_pt_en_bahdanau", "seq2seq", "ted_pt_en_bahdanau", "ted_pt_en",
               {"attention": "bahdanau", "level": "word", "vocabulary_size": 8000, "embedding_dim": 128, "units": 256,
                "attention_units": 256, "max_source_len": 64, "max_target_len": 64}, epochs=10,
               description="TED Portuguese → English, Bahdanau attention (needs TFDS to download the data)"),
        Recipe("stn_rts_fashion_mnist", "stn", "rts_fashion_mnist", "rts_fashion_mnist", _STN, epochs=20,
               baseline="cnn_rts_fashion_mnist",
               description="ST-CNN on RTS-distorted Fashion-MNIST (42×42, rotation ±45°, scale 0.7–1.2, random placement), full 60k train"),
        Recipe("cnn_rts_fashion_mnist", "cnn", "rts_fashion_mnist", "rts_fashion_mnist", _CNN, epochs=20,
               description="CNN baseline, same data, budget and schedule as stn_rts_fashion_mnist"),
        Recipe("stn_rts_mnist5k", "stn", "rts_mnist5k", "rts_mnist5k", _STN, epochs=60,
               baseline="cnn_rts_mnist5k",
               description="ST-CNN on RTS-distorted MNIST 5k sample (4,000 train / 1,000 test)"),
        Recipe("cnn_rts_mnist5k", "cnn", "rts_mnist5k", "rts_mnist5k", _CNN, epochs=60,
               description="CNN baseline, same data, budget and schedule as stn_rts_mnist5k"),
        # k-bit parity: 15 epochs of 400,000 strings, 2–2.5 minutes a recipe on the 2-core CPU (JAX).
        *parity_family((16, 24), units=32, depth=8, epochs=15, batch_size=64, learning_rate=1e-2),
        # Character LMs on the King James Bible (3.9 M training characters): on the 2-core CPU (JAX) an
        # epoch takes ~5 minutes for the tied 2-LSTM (d = 128, 3 blocks: 164,159 parameters) and ~1.6
        # for 3 stacked LSTM layers of 83 (164,984 parameters).
        # Tied 3-LSTM over 4×4 patches (a 7×7 grid, depth 2: 30,442 parameters) against the CNN of
        # 30,517; JAX on the 2-core CPU beside another run: ~5 s an epoch of MNIST 5k, ~75 s of Fashion-MNIST.
        *grid_image_family("mnist5k", 60, units=48, depth=2, patch_size=4, cnn_units=33),
        *grid_image_family("fashion_mnist", 15, units=48, depth=2, patch_size=4, cnn_units=33),
        *language_model_family("kjv", units=128, depth=3, stacked_units=83, epochs=6, batch_size=64, learning_rate=2e-3),
        # Online only (TFDS download): COCO captions on an EfficientNetB0 encoder with ImageNet weights.
        Recipe("show_attend_tell_coco_soft", "show_attend_tell", "coco_soft", "coco_captions",
               {"backbone": "EfficientNetB0", "backbone_weights": "imagenet", "embedding_dim": 256, "units": 512,
                "attention_units": 256, "penalty": 0.05, "attention": "soft"}, epochs=10, batch_size=32,
               description="COCO captions, soft attention on EfficientNetB0 features (needs TFDS to download COCO)"),
        # Captioned scenes: 60 epochs of 20,000 new scenes, ~27–37 minutes a recipe on one core of the 2-core CPU
        # (TensorFlow, one thread); 36 epochs grounded 85.3% of the object words, 60 epochs 88.9% (first 300, soft, seed 0).
        *show_attend_tell_family("scenes_fashion_mnist", epochs=60),
        # DRAW generators: ~8 minutes an epoch of 60,000 images each, two trained side by side on the 2-core CPU.
        *draw_family("binarized_fashion_mnist", 5, "on statically binarised Fashion-MNIST"),
        *draw_family("binarized_mnist5k", 60, "on statically binarised MNIST 5k"),
        # DRAW classifier, 8 glimpses: ~1 (alone) to ~2.5 (beside other runs) minutes an epoch of 60,000 images on
        # the 2-core CPU with TensorFlow; 4 glimpses with JAX on one core, ~18 s.
        *draw_classifier_family("cluttered100_fashion_mnist", 50, "on 100×100 cluttered Fashion-MNIST (8 fragments)"),
        *draw_classifier_family("cluttered100_mnist5k", 400, "on 100×100 cluttered MNIST 5k (8 fragments)"),
        # Questions about captioned scenes: 10 epochs of 100,000 questions about 20,000 scenes, ~25 minutes a
        # recipe on the 2-core CPU beside other runs (TensorFlow; the blind model ~5 minutes). Seeds 0, 1 and 2.
        *vqa_family("vqa_scenes_fashion_mnist", epochs=10, seeds=(0, 1, 2)),
        # The same with one hidden ReLU layer of 128 before the answer softmax (the `_mlp` tags).
        *vqa_family("vqa_scenes_fashion_mnist", epochs=10, answer_units=128),
        # Handwriting synthesis (GPU queue): 2 LSTMs of 256, 30 epochs of 20,000 lines, with and without the window.
        *handwriting_family("strokes_kjv", epochs=30, units=256, layers=2),
        # The same on the 2-core CPU: 2 LSTMs of 128, 12 epochs, ~2.5 minutes an epoch alone (JAX, lines batched
        # by length), ~5 beside the other run.
        *handwriting_family("strokes_kjv", epochs=12, units=128, layers=2, size="_128"),
        *gpu_campaign_recipes(),
        *cost_vs_size_recipes(),
    ]
}
RECIPES.update({r.name: r for r in handwriting_fine_tunes("strokes_kjv_128")})


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_names(recipe):
    """Refuse a recipe whose name, model or tag could leave the folder a run writes to: letters,
    digits, '_', '-' and '.' only, no '..'."""
    for field in ("name", "model", "tag"):
        value = getattr(recipe, field)
        if not isinstance(value, str) or not _SAFE_NAME.match(value) or ".." in value:
            raise ValueError(f"the recipe's {field} must be letters, digits, '_', '-' and '.' (no '..', no "
                             f"path separators); got {value!r}")


def get(name):
    """The recipe `name`, or one written by a run (a `*.recipe.json` path); else a ValueError
    that lists close names."""
    if name.endswith(".json"):
        return from_file(name)
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}.{did_you_mean(name, RECIPES)} Recipes: {', '.join(sorted(RECIPES))}.")
    return RECIPES[name]


def to_json(recipe, **run):
    """The recipe as a run used it (JSON text), with the run's own settings (`run`: limit, strategy…)."""
    return json.dumps({**dataclasses.asdict(recipe), "run": run}, indent=2) + "\n"


def from_file(path):
    """The recipe in a `*.recipe.json` written by `zoo train` (its "run" settings: `run_settings`)."""
    fields = {f.name for f in dataclasses.fields(Recipe)}
    try:
        saved = json.loads(Path(path).read_text())
        return Recipe(**{k: v for k, v in saved.items() if k in fields})
    except (OSError, ValueError, TypeError) as error:
        raise ValueError(f"cannot read the recipe file {path}: {error}") from error


def run_settings(path):
    """The "run" settings (limit, strategy, …) saved beside a recipe in a `*.recipe.json`."""
    return json.loads(Path(path).read_text()).get("run", {})
