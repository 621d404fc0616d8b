"""Stacked Attention Networks (the "vqa" model): shapes and attention maps for every variant (0, 1,
2 hops, blind, two hops supervised), what each variant reads, attention supervision, question tokenisation, answer(), bad
input, the picture;
fit, the `.keras` round trip of the default and the TFLite export are in test_conformance."""

import keras
import numpy as np
import pytest

from zoo import registry
from zoo.models.base import cell_centres

TOKENS = ("<pad>", "what", "is", "at", "the", "top", "left", "right", "of", "bag", "?")
ANSWERS = ("bag", "shoe", "nothing", "yes", "no")
SMALL = dict(tokens=TOKENS, answers=ANSWERS, filters=(4, 4, 8), embedding_dim=4, units=8, attention_units=4)
VARIANTS = {"two_hops": {}, "one_hop": {"hops": 1}, "no_attention": {"hops": 0},
            "blind": {"hops": 0, "use_image": False}, "supervised": {"attention_supervision": 1.0}}
QUESTIONS = ["What is at the top left?", "what is left of the bag ?", "is the bag at the right?"]


def model(**kw):
    keras.utils.set_random_seed(0)
    return registry.build("vqa", **{**SMALL, **kw})


def images(n=3, seed=0):
    return np.random.default_rng(seed).random((n, 64, 64, 1)).astype("float32")


def batch(m, n=3, seed=0):
    return {"images": images(n, seed), "questions": m.question_ids(QUESTIONS[:n])}


@pytest.mark.parametrize("variant", VARIANTS)
def test_probabilities_and_one_attention_map_per_hop(variant):
    m = model(**VARIANTS[variant])
    probabilities, attention = (np.asarray(o) for o in m(batch(m), return_attention=True))
    assert m.grid == (8, 8) and probabilities.shape == (3, len(ANSWERS)) and attention.shape == (3, m.hops, 8, 8)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(attention.sum((2, 3)), 1.0, atol=1e-5)
    assert np.all(attention >= 0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_variant_takes_a_fit_step(variant):
    m = model(**VARIANTS[variant])
    m.compile(keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    before = [np.array(w) for w in m.trainable_weights]
    loss = m.fit(batch(m), np.array([0, 3, 4]), batch_size=3, epochs=1, verbose=0).history["loss"]
    assert np.isfinite(loss[0]) and any(not np.array_equal(np.asarray(a), b) for a, b in zip(m.trainable_weights, before))
    assert len([w for w in m.trainable_weights if "/attention/" in w.path]) == 4 * m.hops


def test_what_each_variant_reads():
    x, other = batch(model()), images(3, seed=1)
    for variant, kw in VARIANTS.items():
        m = model(**kw)
        same = np.allclose(np.asarray(m(x)), np.asarray(m({**x, "images": other})), atol=1e-6)
        assert same == (variant == "blind"), variant  # only the blind model ignores the image
    m = model(hops=0)  # no attention: the mean image vector stands for the attended one
    u = np.asarray(m.image_vectors(x["images"])).mean(1) + np.asarray(m.question_vector(x["questions"]))
    logits = u @ np.asarray(m.W_u.kernel) + np.asarray(m.W_u.bias)
    want = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(np.asarray(m(x)), want / want.sum(-1, keepdims=True), atol=1e-5)


def test_answer_units_put_one_relu_layer_before_the_answer_softmax():
    x = batch(model())
    m = model(hops=0, answer_units=6)
    u = np.asarray(m.image_vectors(x["images"])).mean(1) + np.asarray(m.question_vector(x["questions"]))
    h = np.maximum(u @ np.asarray(m.W_h.kernel) + np.asarray(m.W_h.bias), 0)
    logits = h @ np.asarray(m.W_u.kernel) + np.asarray(m.W_u.bias)
    want = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(np.asarray(m(x)), want / want.sum(-1, keepdims=True), atol=1e-5)
    assert model().W_h is None  # the paper's linear answer layer by default
    with pytest.raises(ValueError, match="answer_units must be 0"):
        model(answer_units=-1)


def test_attention_targets_are_uniform_over_the_cells_whose_centre_lies_in_the_box():
    # 64 px on an 8×8 grid: centres at 4, 12, 20, …; the box rows [8, 24) hold rows 1–2, columns [16, 40) columns 2–4.
    targets = np.asarray(model().attention_targets(np.array([[[8, 16, 24, 40], [-1, -1, -1, -1]]])))
    want = np.zeros((8, 8))
    want[1:3, 2:5] = 1 / 6
    np.testing.assert_allclose(targets[0, 0].reshape(8, 8), want, atol=1e-7)
    assert targets.shape == (1, 2, 64) and not targets[0, 1].any()  # no item: no target


def attention_term(targets, maps):
    """−mean_B Σ_i t_i log p_i, in NumPy."""
    return -np.mean(np.sum(targets * np.log(np.maximum(maps, 1e-7)), -1))


@pytest.mark.parametrize("hops", [1, 2])
def test_attention_supervision_adds_the_maps_cross_entropy_with_the_items(hops):
    m = model(hops=hops, attention_supervision=0.5)
    x = batch(m)
    boxes = np.array([[[0, 0, 32, 32], [0, 0, 32, 32]], [[8, 16, 24, 40], [40, 8, 64, 24]], [[-1] * 4] * 2])
    _, maps = m({**x, "boxes": boxes}, return_attention=True)
    maps, targets = np.asarray(maps).reshape(3, hops, 64), np.asarray(m.attention_targets(boxes))
    want = attention_term(targets[:, 1], maps[:, -1]) + (attention_term(targets[:, 0], maps[:, 0]) if hops > 1 else 0)
    assert len(m.losses) == 1
    np.testing.assert_allclose(float(m.losses[0]), 0.5 * want, rtol=1e-5)
    m(x)
    assert not m.losses  # without boxes, the paper's loss alone
    unsupervised = model(hops=hops)
    unsupervised({**x, "boxes": boxes})
    assert not unsupervised.losses


def test_fit_with_boxes_draws_the_attention_to_the_items():
    m = model(attention_supervision=1.0)
    x = {**batch(m), "boxes": np.array([[[0, 0, 16, 16], [48, 48, 64, 64]]] * 3)}
    m.compile(keras.optimizers.Adam(3e-2), loss="sparse_categorical_crossentropy")
    m.fit(x, np.array([0, 3, 4]), batch_size=3, epochs=30, verbose=0)
    maps = np.asarray(m(x, return_attention=True)[1]).reshape(3, 2, 64)
    targets = np.asarray(m.attention_targets(x["boxes"]))
    assert (maps * (targets > 0)).sum(-1).min() > 0.5  # each hop's mass mostly on its item (uniform: 4/64)


def test_the_question_vector_is_the_state_after_the_last_word():
    m = model()
    ids = m.question_ids(["what is left of the bag"])
    assert ids[0, 6:].tolist() == [0] * 4
    padded = np.asarray(m.question_vector(ids))
    unpadded = np.asarray(m.lstm(m.embedding(ids[:, :6])))
    np.testing.assert_allclose(padded, unpadded, atol=1e-6)


def test_the_question_loop_reads_the_words_as_the_lstm_does():
    # The export's loop over the words (padding keeps the state) gives the unrolled LSTM's v_Q.
    m = model()
    ids = m.question_ids(["what is left of the bag", "is the bag at the right ?", "what"])
    np.testing.assert_allclose(np.asarray(m.question_vector(ids, unroll=False)), np.asarray(m.question_vector(ids)),
                               atol=1e-6)
    x = batch(m)
    np.testing.assert_allclose(np.asarray(m(x, unroll=False)), np.asarray(m(x)), atol=1e-6)


def test_image_vectors_carry_their_cell_centre():
    centres = cell_centres(8, 8)
    np.testing.assert_allclose(centres[0], [-7 / 8, -7 / 8])  # top-left cell (y, x)
    np.testing.assert_allclose(centres[8 * 2 + 5], [-3 / 8, 3 / 8])  # row 2, column 5
    m = model(hops=1)
    assert m.W_I.kernel.shape == (8 + 2, 8)  # the last CNN's 8 channels and (y, x)
    # tanh(W_I^f f_i + W_I^c c_i + b_I), two products, is tanh of W_I on the concatenation [f_i; c_i]:
    x = images(2)
    features = np.asarray(m.encoder(x)).reshape(2, 64, 8)
    whole = m.W_I(np.concatenate([features, np.broadcast_to(centres, (2, 64, 2))], -1))
    np.testing.assert_allclose(np.asarray(m.image_vectors(x)), np.tanh(np.asarray(whole)), atol=1e-6)


def test_questions_are_lower_cased_with_the_question_mark_split_off():
    m = model()
    ids = m.question_ids(["What is at the top LEFT?", "what is at the top left ?"])
    np.testing.assert_array_equal(ids[0], ids[1])
    assert [TOKENS[i] for i in ids[0] if i] == ["what", "is", "at", "the", "top", "left", "?"]
    assert m.decode(ids[0]) == "what is at the top left ?"
    with_unk = model(tokens=(*TOKENS, "<unk>"))  # a vocabulary with "<unk>" (CLEVR's) reads unknown words as it
    assert [with_unk.tokens[i] for i in with_unk.question_ids(["what is the purse?"])[0] if i] == [
        "what", "is", "the", "<unk>", "?"]


def test_questions_are_read_as_the_question_datasets_write_them():
    from recipes.data import vqa

    questions = vqa.load("vqa_scenes_fashion_mnist", "test", limit=40)
    m = model(tokens=questions.tokens, answers=questions.answer_words)
    np.testing.assert_array_equal(m.question_ids(questions.texts), questions.questions)
    assert m.decode(questions.questions[0]).replace(" ?", "?") == questions.texts[0]


def test_answer_reads_strings_and_ids_alike():
    m = model()
    x = batch(m)
    words, confidence, maps = m.answer(x["images"], QUESTIONS)
    probabilities, attention = (np.asarray(o) for o in m(x, return_attention=True))
    assert words == [ANSWERS[i] for i in probabilities.argmax(-1)]
    np.testing.assert_allclose(confidence, probabilities.max(-1), atol=1e-6)
    np.testing.assert_allclose(maps, attention, atol=1e-6)
    by_ids = m.answer(x["images"], x["questions"], return_attention=False)
    assert len(by_ids) == 2 and by_ids[0] == words
    tuple_input = np.asarray(m((x["images"], x["questions"])))
    np.testing.assert_allclose(tuple_input, probabilities, atol=1e-6)


def test_bad_input_is_refused_with_what_was_expected():
    m = model()
    x = batch(m)
    with pytest.raises(ValueError, match=r"does not know the word\(s\) 'where', 'purse' of 'where is the purse\?'") as error:
        m.question_ids(["where is the purse?"])
    known = str(error.value).split("it knows: ")[1].split()
    assert known == sorted(t for t in m.tokens if t != "<pad>") and "is" in known
    with pytest.raises(ValueError, match="reads questions of 1 to 10 words; .* has 12"):
        m.question_ids(["what is at the top left of the bag at the right"])
    with pytest.raises(ValueError, match="one question per image; got 2 images and 3 questions"):
        m.answer(x["images"][:2], QUESTIONS)
    with pytest.raises(ValueError, match="wrap a single one in a list"):
        m.answer(x["images"][:1], QUESTIONS[0])
    with pytest.raises(ValueError, match=r"expects float32 images .* got dtype uint8"):
        m({**x, "images": (x["images"] * 255).astype("uint8")})
    with pytest.raises(ValueError, match=r"expects images of shape \(batch, 64, 64, 1\); got shape \(3, 64, 64\)"):
        m({**x, "images": x["images"][..., 0]})
    with pytest.raises(ValueError, match=r"question word ids as integers of shape \(batch, 10\), 0 = padding; got float32 \(3, 10\)"):
        m({**x, "questions": x["questions"].astype("float32")})
    with pytest.raises(ValueError, match=r"question word ids as integers of shape \(batch, 10\), 0 = padding; got int32 \(3, 8\)"):
        m({**x, "questions": x["questions"][:, :8]})
    with pytest.raises(ValueError, match=r"word ids in \[0, 10\]; got ids from 0 to 11"):
        m({**x, "questions": np.where(x["questions"] == 1, 11, x["questions"])})
    with pytest.raises(ValueError, match=r'takes \{"images": floats, "questions": word ids\}.*got \[.captions., .images.\]'):
        m({"images": x["images"], "captions": x["questions"]})
    with pytest.raises(ValueError, match="tokens\\[0\\] == '<pad>'"):
        model(tokens=TOKENS[1:])
    with pytest.raises(ValueError, match="answers must be at least 2"):
        model(answers=("yes",))
    with pytest.raises(ValueError, match="0 without the image"):
        model(use_image=False)
    with pytest.raises(ValueError, match=r"boxes of shape \(batch, 2, 4\).*got shape \(3, 4\)"):
        m({**x, "boxes": np.zeros((3, 4), "int32")})
    with pytest.raises(ValueError, match="attention_supervision must be 0, or more with hops ≥ 1; got 1.0 with hops=0"):
        model(hops=0, attention_supervision=1.0)
    with pytest.raises(ValueError, match="attention_supervision must be 0, or more"):
        model(attention_supervision=-1)


@pytest.mark.parametrize("variant", ["one_hop", "no_attention", "blind", "supervised"])
def test_keras_file_round_trip_of_the_other_variants(variant, tmp_path):
    m = model(**VARIANTS[variant], dropout=0.5)
    x = batch(m)
    m.save(tmp_path / "vqa.keras")
    loaded = keras.saving.load_model(tmp_path / "vqa.keras", safe_mode=True)
    assert type(loaded) is type(m) and loaded.get_config() == m.get_config()
    for got, want in zip(loaded(x, return_attention=True), m(x, return_attention=True)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-6)


def test_the_serving_signature_names_two_inputs_and_the_maps_only_with_hops():
    for kw, outputs in [({}, ["probabilities", "region_attention"]), ({"hops": 0}, ["probabilities"])]:
        m = model(**kw)
        inputs, serve = m.serving_signature()
        assert inputs == {"images": (None, 64, 64, 1), "questions": (None, 10)} and m.input_dtypes == {"questions": "int32"}
        x = batch(m)
        assert sorted(serve(**x)) == outputs


def test_picture_draws_each_hop(tmp_path):
    m = model()
    path = m.picture({"images": images(2), "questions": QUESTIONS[:2]}, ["bag", None], tmp_path / "vqa.png")
    assert path.stat().st_size > 10_000


def test_the_supervised_recipe_trains_on_the_items_boxes_beside_two_hops_without():
    from recipes import configs, train

    recipe = configs.get("vqa_scenes_mnist5k_supervised_mlp_60e")
    assert recipe.baseline == "vqa_scenes_mnist5k_mlp_60e" and recipe.config["attention_supervision"] == 1.0
    for name, boxes in ((recipe.name, True), (recipe.baseline, False)):
        m = registry.build("vqa", **train.model_config(configs.get(name)))
        x, y = train.training_arrays(configs.get(name), m, limit=5)
        assert ("boxes" in x) == boxes and len(y) == 5
        if boxes:
            assert x["boxes"].shape == (5, 2, 4)
