"""Training a stroke writer through the runner (`recipes.train.train` on a small recipe file, the
first 16 lines of strokes_kjv) and its test NLL (`recipes.evaluate.evaluate_strokes`) against the
model's own loss computed directly on the same lines padded together."""

import dataclasses
import shutil

import keras
import numpy as np
import pytest

from recipes import configs, data, train
from recipes import evaluate as evaluation
from recipes.testset import EXAMPLES
from zoo import registry
from zoo import weights as store

SMALL = dict(units=8, layers=2, components=3, window=2)  # tests/zoo/test_conformance.py's, with the data's tokens
LIMIT = 16


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the runner's 1-epoch check runs on TensorFlow here (JAX: `zoo train ... --epochs 1`)")
    tmp = tmp_path_factory.mktemp("strokes")
    recipe = configs.Recipe("handwriting_tiny", "handwriting", "tiny", "strokes_kjv", SMALL, epochs=1, batch_size=8,
                            clipnorm=10.0)
    path = tmp / "handwriting.tiny.recipe.json"
    path.write_text(configs.to_json(recipe, limit=LIMIT))
    card = train.train(str(path), out_dir=tmp / "out", run_dir=tmp / "run", verbose=0)
    model = registry.build("handwriting", **card["config"])
    model.build_for_inputs()
    return card, store.load_into(model, tmp / "out" / card["file"])


def test_the_runner_trains_a_stroke_writer_from_its_recipe(trained):
    card, model = trained
    assert card["config"]["tokens"] == data.info("strokes_kjv")["tokens"] and card["config"]["max_text_len"] == 25
    assert card["data"]["train_examples"] == LIMIT and card["training"]["batch_size"] == 8
    assert "clipped to norm 10.0" in card["training"]["optimizer"]
    assert card["parameters"] == model.count_params()
    source = train.training_arrays(configs.get("handwriting_strokes_kjv"), model, limit=4)
    (inputs, targets), drawn = source.arrays, data.load_strokes("strokes_kjv", "train", limit=4)
    assert isinstance(source, data.LengthBuckets) and source.key == "strokes"
    np.testing.assert_array_equal(source.lengths, drawn.lengths)
    assert inputs["strokes"].shape == (4, drawn.lengths.max(), 3) and targets.shape == (4,)
    np.testing.assert_array_equal(inputs["strokes"][0, : drawn.lengths[0]], drawn.strokes[0])
    np.testing.assert_array_equal(inputs["text"], drawn.text_ids)


def test_a_fine_tune_starts_from_the_shipped_weights_and_says_so(tmp_path):
    # `initial_weights`: the run loads a shipped tag before its first step. With a learning rate of 0
    # the weights it writes are those it started from; the card names them and their sha256.
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the runner's check runs on TensorFlow here")
    shipped = registry.record("handwriting", "strokes_kjv_128")
    recipe = configs.Recipe("handwriting_fine_tune", "handwriting", "fine_tune", "strokes_kjv",
                            {**shipped["config"], "input_noise": 0.1}, epochs=1, batch_size=8, learning_rate=0.0,
                            initial_weights="strokes_kjv_128")
    path = tmp_path / "handwriting.fine_tune.recipe.json"
    path.write_text(configs.to_json(recipe, limit=8))
    card = train.train(str(path), out_dir=tmp_path / "out", run_dir=tmp_path / "run", verbose=0)
    assert card["training"]["initial_weights"] == f"handwriting:strokes_kjv_128 sha256 {shipped['sha256']}"
    assert card["config"]["input_noise"] == 0.1
    tuned = store.load_into(registry.build("handwriting", **card["config"]), tmp_path / "out" / card["file"])
    start = store.load_into(registry.build("handwriting", **shipped["config"]), store.fetch(shipped["file"], shipped["sha256"]))
    for a, b in zip(tuned.get_weights(), start.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    recipe = dataclasses.replace(recipe, config={**recipe.config, "units": 16})  # weights that do not fit
    path.write_text(configs.to_json(recipe, limit=8))
    with pytest.raises(store.WeightsMismatch, match="does not fit"):
        train.train(str(path), out_dir=tmp_path / "out2", run_dir=tmp_path / "run2", verbose=0)


def test_a_run_from_a_fresh_initialisation_has_no_initial_weights_on_its_card(trained):
    card, _ = trained
    assert "initial_weights" not in card["training"]


def test_length_buckets_batch_lines_of_about_one_length_and_cut_the_padding():
    drawn = data.load_strokes("strokes_kjv", "train", limit=300)
    source = data.LengthBuckets((drawn.inputs(), np.arange(300)), drawn.lengths, "strokes", width=32)
    batches = data.ArrayBatches(source, 16, seed=1)  # 18 full batches and one of 12
    assert len(batches) == 19
    padded, seen, spans = drawn.padded(), [], []
    for i in range(len(batches)):
        inputs, rows = batches[i]
        lengths = drawn.lengths[rows]
        # each batch cut to its longest line rounded up to the width, nothing real cut off
        assert inputs["strokes"].shape[1] == min(-(-lengths.max() // 32) * 32, drawn.lengths.max())
        np.testing.assert_array_equal(inputs["strokes"], padded[rows, : inputs["strokes"].shape[1]])
        np.testing.assert_array_equal(inputs["text"], drawn.text_ids[rows])
        seen.extend(rows)
        spans.append(lengths.max() - lengths.min())
    assert len(rows) == 12 and sorted(seen) == list(range(300))  # the partial batch last; every line once
    # sorted within the pool: a batch spans far fewer lengths than a random one
    random = [np.ptp(drawn.lengths[r]) for r in np.array_split(data.epoch_order(300, 1, 0), 19)]
    assert np.mean(spans) < 0.3 * np.mean(random)
    first = [tuple(batches[i][1]) for i in range(len(batches))]
    batches.on_epoch_end()  # another epoch, another order; the same (seed, epoch) the same order
    assert [tuple(batches[i][1]) for i in range(len(batches))] != first
    again = data.ArrayBatches(source, 16, seed=1)
    assert [tuple(again[i][1]) for i in range(len(again))] == first


def test_evaluate_strokes_is_the_direct_nll(trained):
    _, model = trained
    metrics = evaluation.evaluate_strokes(model, "strokes_kjv", "test", limit=6, batch_size=3)
    inputs, texts = EXAMPLES["stroke_writer"]({"data": {"dataset": "strokes_kjv", "test_split": "test"}}, 6)
    assert len(texts) == 6 and inputs["strokes"].shape[0] == 6
    out = model(inputs)  # all 6 lines padded to the longest: padding is not scored
    nll, points = np.asarray(out["nll"], np.float64), np.asarray(out["points"], np.float64)
    np.testing.assert_array_equal(points, data.load_strokes("strokes_kjv", "test", limit=6).lengths)
    assert np.isfinite(nll).all() and metrics["examples"] == 6 and metrics["split"] == "test"
    assert metrics["nll"] == pytest.approx(nll.mean(), abs=0.01)
    assert metrics["nll_per_point"] == pytest.approx(nll.sum() / points.sum(), abs=1e-4)
    assert evaluation.TEST_METRICS["stroke_writer"] is evaluation.evaluate_strokes


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="OCR needs Debian's tesseract-ocr")
def test_readability_reads_written_and_true_lines_of_the_same_texts():
    from recipes import ocr
    from tests.zoo.test_handwriting import hand_set_window

    keras.utils.set_random_seed(0)
    model = registry.build("handwriting", **{**SMALL, "tokens": data.info("strokes_kjv")["tokens"], "max_text_len": 25})
    model.build_for_inputs()
    hand_set_window(model, 0.05)  # the window moves 1/20 of a character a step: forward only, to the end
    metrics = evaluation.readability(model, "strokes_kjv", "test", limit=3, bias=1.0)
    drawn = data.load_strokes("strokes_kjv", "test", limit=3)
    assert metrics["cer_ground_truth"] == round(ocr.strokes_error_rate(drawn.strokes, drawn.texts), 2)
    assert metrics["cer"] > metrics["cer_ground_truth"]  # an untrained hand is not read
    assert metrics["window_monotone_percent"] == 100.0 and metrics["stopped_percent"] == 100.0
    assert metrics["readability_examples"] == 3 and evaluation.EXTRAS["stroke_writer"]
