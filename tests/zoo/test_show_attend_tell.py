"""Show-Attend-Tell: attention over the annotation grid, teacher forcing, the attention losses,
captioning (greedy = beam 1), fit, bad input; and the scene metrics (the `.keras` round trip is in
test_conformance)."""

import keras
import numpy as np
import pytest

from recipes import configs, data, train
from recipes.data import scenes
from recipes.evaluate import evaluate_captions
from zoo import decoding, registry

SMALL = {"filters": (4, 8, 8), "embedding_dim": 8, "units": 16, "attention_units": 8, "max_len": 31}
DATASET = "scenes_fashion_mnist"


def model(kind="soft", **kw):
    keras.utils.set_random_seed(0)
    return registry.build("show_attend_tell", tokens=scenes.words(DATASET), attention=kind, seed=1,
                    **{**SMALL, **kw})


def batch(n=4, seed=0):
    images, captions = data.caption_pairs(DATASET, "test", seed=seed, limit=n)
    return data.for_model(images), captions


@pytest.fixture(scope="module")
def scenes_batch():
    return batch()


@pytest.mark.parametrize("kind", ["soft", "hard", "none"])
def test_probabilities_and_attention_over_the_grid(kind, scenes_batch):
    m = model(kind)
    images, captions = scenes_batch
    x, y = m.teacher_forcing(images, captions)
    assert x["captions"].shape == (4, 33) and y.shape == (4, 32) and m.grid == (8, 8)
    np.testing.assert_array_equal(x["captions"][:, 1:], y)
    probs, alphas = m(x, return_attention=True)
    probs, alphas = np.asarray(probs), np.asarray(alphas)
    assert probs.shape == (4, 32, len(m.vocab)) and alphas.shape == (4, 32, 64)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    if kind == "none":
        assert np.all(alphas == 0)
    else:
        np.testing.assert_allclose(alphas.sum(-1), 1.0, atol=1e-5)


def test_annotations_carry_their_cell_centre():
    m = model()
    a = np.asarray(m.annotations(np.zeros((1, 64, 64, 1), "float32")))
    assert a.shape == (1, 64, 8 + 2)
    np.testing.assert_allclose(a[0, 0, -2:], [-7 / 8, -7 / 8])  # top-left cell (y, x)
    np.testing.assert_allclose(a[0, 8 * 2 + 5, -2:], [-3 / 8, 3 / 8])  # row 2, column 5


def test_scene_recipes_train_on_the_first_reference():
    recipe = configs.get("show_attend_tell_scenes_fashion_mnist_soft")
    assert recipe.reference == 0
    m = model()
    x, y = train.training_arrays(recipe, m, limit=3)(2)  # epoch 2: scenes drawn with the recipe's seed + 2
    drawn = data.load_scenes(DATASET, "train", seed=recipe.seed + 2, limit=3)
    expected, _ = m.teacher_forcing(data.for_model(drawn.images), [refs[0] for refs in drawn.references])
    np.testing.assert_array_equal(x["captions"], expected["captions"])


def test_annotations_before_the_last_pool_double_the_grid(scenes_batch):
    m = model(pool_last=False)
    images, captions = scenes_batch
    assert m.grid == (16, 16) and m.get_config()["pool_last"] is False
    a = np.asarray(m.annotations(images))
    assert a.shape == (4, 256, 8 + 2)
    np.testing.assert_allclose(a[0, 0, -2:], [-15 / 16, -15 / 16])
    _, alphas = m(m.teacher_forcing(images, captions)[0], return_attention=True)
    assert np.asarray(alphas).shape == (4, 32, 256)
    assert np.asarray(m.caption(images[:1], beam_size=1)[0]["attention"]).shape[1:] == (16, 16)


def test_kernels_set_the_receptive_field_of_an_annotation():
    """Cell (0, 0) reads pixels up to 14 with 3×3 convs throughout, up to 10 with a 1×1 last conv."""
    images = np.random.default_rng(0).uniform(size=(1, 64, 64, 1)).astype("float32")
    touched = images.copy()
    touched[0, 12, 12, 0] += 1.0
    for kernels, reaches in ((None, True), ((3, 3, 1), False)):
        m = model(kernels=kernels)
        before, after = (np.asarray(m.annotations(x))[0, 0, :-2] for x in (images, touched))
        assert (not np.allclose(before, after)) is reaches, kernels
    assert model(kernels=(3, 3, 1)).get_config()["kernels"] == (3, 3, 1)
    assert model().get_config()["kernels"] == (3, 3, 3)
    with pytest.raises(ValueError, match=r"kernels must give one positive side per entry of filters \(4, 8, 8\); got \(3, 1\)"):
        model(kernels=(3, 1))


def test_zero_initial_state_leaves_the_image_to_the_context(scenes_batch):
    images, _ = scenes_batch
    paper, zeros = model(), model(init="zeros")
    start = paper.encode(images)
    assert np.abs(np.asarray(start["h"])).max() > 0 and np.abs(np.asarray(start["c"])).max() > 0
    start = zeros.encode(images)
    assert np.asarray(start["h"]).shape == (4, 16) and not np.asarray(start["h"]).any() and not np.asarray(start["c"]).any()
    assert not [w.path for w in zeros.weights if "W_h0" in w.path or "W_c0" in w.path]
    assert zeros.get_config()["init"] == "zeros"
    with pytest.raises(ValueError, match="init must be one of"):
        model(init="ones")


def test_training_adds_the_attention_losses(scenes_batch):
    x, _ = model().teacher_forcing(*scenes_batch)
    for kind, count in (("soft", 1), ("hard", 2), ("none", 0)):
        m = model(kind)
        m(x, training=True)
        assert len(m.losses) == count, kind
        assert all(np.isfinite(float(loss)) for loss in m.losses)
    m = model("hard")
    assert [w.path for w in m.non_trainable_weights if "baseline" in w.path], "the REINFORCE baseline is not saved"


def test_focus_adds_the_mean_entropy_of_alpha_over_the_words(scenes_batch):
    x, y = model().teacher_forcing(*scenes_batch)
    m = model(focus=0.1)
    _, alphas = m(x, training=True, return_attention=True)
    penalty, focus = (float(loss) for loss in m.losses)
    alphas, valid = np.asarray(alphas, np.float64), y != 0
    entropy = -np.sum(alphas * np.log(np.maximum(alphas, 1e-7)), axis=-1)
    assert focus == pytest.approx(0.1 * entropy[valid].mean(), rel=1e-4)
    assert 0 < entropy[valid].mean() <= np.log(alphas.shape[-1]) + 1e-6
    plain = model()
    plain(x, training=True)
    assert [float(loss) for loss in plain.losses] == [pytest.approx(penalty)]  # focus 0: the penalty alone
    assert m.get_config()["focus"] == 0.1 and model().get_config()["focus"] == 0.0


def test_beam_of_one_is_greedy_and_captions_carry_maps(scenes_batch):
    m = model()
    images, _ = scenes_batch
    state = {k: np.asarray(v) for k, v in m.encode(images).items()}
    greedy = decoding.greedy(m._keras_step, state, 4, m.vocab.bos_id, m.vocab.eos_id, 12)
    beam = decoding.beam_search(m._keras_step, state, 4, m.vocab.bos_id, m.vocab.eos_id, 12, beam_size=1, alpha=0.0)
    assert [h.tokens for h in greedy] == [h.tokens for h in beam]
    out = m.caption(images, beam_size=3)
    assert len(out) == 4
    for result in out:
        steps = len(result["attention"])  # one map per word, and one for </s> when it was emitted
        assert result["attention"].shape[1:] == (8, 8) and steps in (len(result["words"]), len(result["words"]) + 1)
        assert result["text"] == " ".join(result["words"]) and not {"<pad>", "<unk>", "<s>"} & set(result["words"])


@pytest.mark.parametrize("kind", ["soft", "hard", "none"])
def test_tiny_fit_lowers_the_loss(kind):
    m = model(kind, max_len=15)  # short captions only: half the unrolled steps to compile
    images, captions = batch(200, seed=3)
    short = [i for i, c in enumerate(captions) if len(c.split()) <= 15][:32]
    x, y = m.teacher_forcing(images[short], [captions[i] for i in short])
    m.compile(keras.optimizers.Adam(1e-2))
    history = m.fit(x, y, batch_size=16, epochs=6, verbose=0).history["loss"]
    assert np.all(np.isfinite(history))
    if kind != "hard":  # hard's REINFORCE surrogate has no monotone value
        assert history[-1] < history[0]


def test_bad_input_is_refused_with_what_was_expected(scenes_batch):
    m = model()
    x, _ = m.teacher_forcing(*scenes_batch)
    with pytest.raises(ValueError, match="model.caption"):
        m(x["images"])
    with pytest.raises(ValueError, match=r"float32 images with values in \[0, 1\].*astype"):
        m({"images": (x["images"] * 255).astype("uint8"), "captions": x["captions"]})
    with pytest.raises(ValueError, match=r"shape \(batch, 64, 64, 1\)"):
        m({"images": x["images"][:, :32], "captions": x["captions"]})
    with pytest.raises(ValueError, match="integer word ids"):
        m({"images": x["images"], "captions": x["captions"].astype("float32")})
    with pytest.raises(ValueError, match="attention must be one of"):
        model("sometimes")
    with pytest.raises(ValueError, match="at most 33"):
        m.teacher_forcing(x["images"][:1], [" ".join(["a bag at the top left and"] * 6)])


def test_vocabulary_round_trip():
    m = model()
    caption = "a small sneaker above and to the left of a bag"
    ids = m.vocab.encode([caption], 33, bos=True, eos=True)
    assert m.vocab.decode(ids[0, 1:]) == caption and not m.vocab.unknown(caption)


class _Oracle:
    """A captioner that answers the first reference and looks at each named item's box."""

    def __init__(self, drawn, misplace=False):
        self.drawn, self.misplace = drawn, misplace

    def caption(self, images, beam_size=3):
        out = []
        for i in range(len(images)):
            text, objects = self.drawn.references[i][0], self.drawn.objects(i)
            maps = np.zeros((len(text.split()) + 1, 8, 8))
            for word, item in scenes.object_words(text, objects):
                y0, x0, y1, x1 = objects[item]["box"]
                inside = [(r, c) for r in range(8) for c in range(8) if y0 <= 8 * r + 4 < y1 and x0 <= 8 * c + 4 < x1]
                r, c = inside[0] if inside else ((y0 + y1) // 16, (x0 + x1) // 16)
                maps[word][(7 - r, 7 - c) if self.misplace else (r, c)] = 1.0
            out.append({"text": text, "words": text.split(), "attention": maps})
        return out


def test_scene_metrics_of_an_oracle():
    drawn = data.load_scenes(DATASET, "test", limit=50)
    perfect = evaluate_captions(_Oracle(drawn), DATASET, limit=50)
    assert perfect["bleu4"] == 100.0 and perfect["caption_accuracy"] == 100.0
    assert perfect["grounded_words"] > 100 and 95 < perfect["grounding_ceiling"] <= 100
    assert perfect["grounding_accuracy"] == perfect["grounding_ceiling"]  # it misses only boxes holding no cell centre
    assert evaluate_captions(_Oracle(drawn, misplace=True), DATASET, limit=50)["grounding_accuracy"] < 50
