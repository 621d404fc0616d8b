"""Question answerer export: the shipped `vqa` weights as a TFLite file that the LiteRT `Answerer`
asks in words like the Keras model, and `zoo predict` on it without TensorFlow; the SavedModel cell;
the evaluation's grounding geometry."""

import numpy as np
import pytest
from PIL import Image

import zoo
from export.question_answerer import Answerer
from export.records import export_record
from recipes import data
from recipes.evaluate import attention_peaks_inside
from recipes.testset import TestSet
from tests.helpers import zoo_cli_without_tensorflow
from zoo import registry

QUESTIONS = data.load_questions(registry.record("vqa")["data"]["dataset"], "test", limit=24)  # the default's scenes
IMAGES = data.for_model(QUESTIONS.images[QUESTIONS.scene])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    path = tmp_path_factory.mktemp("vqa") / "vqa.tflite"
    rec = registry.record("vqa")
    result = export_record(rec, "tflite", "fp32", TestSet(rec, limit=200), out=str(path))
    return path, result


def test_the_exported_answerer_answers_in_words_like_keras(exported):
    path, result = exported
    assert result["top1_agreement_percent"] == 100.0 and result["parity_max_abs_diff"] < 1e-4
    assert result["test_accuracy_tflite"] == result["test_accuracy_keras"] and result["test_examples"] == 200
    lite_words, lite_p, lite_maps = Answerer(path).answer(IMAGES, QUESTIONS.texts)
    keras_words, keras_p, keras_maps = zoo.load("vqa").answer(IMAGES, QUESTIONS.texts)
    assert lite_words == keras_words
    np.testing.assert_allclose(lite_p, keras_p, atol=1e-4)
    np.testing.assert_allclose(lite_maps, keras_maps, atol=1e-4)
    assert lite_maps.shape == (24, 2, 8, 8)


def test_zoo_predict_asks_the_tflite_file_without_tensorflow(exported, tmp_path):
    path, _ = exported
    image = tmp_path / "scene.png"
    Image.fromarray(QUESTIONS.images[QUESTIONS.scene[0]][..., 0]).save(image)
    run = zoo_cli_without_tensorflow(["predict", path, image, QUESTIONS.texts[0]])
    assert run.returncode == 0, run.stderr
    expected = Answerer(path).answer(IMAGES[:1], QUESTIONS.texts[:1])[0][0]
    assert run.stdout.splitlines()[0].startswith(f"{expected}  (") and "hop 2@" in run.stdout
    unknown = zoo_cli_without_tensorflow(["predict", path, image, "where is the purse?"])
    assert unknown.returncode != 0 and "'purse'" in unknown.stderr


def test_the_saved_model_takes_both_inputs_by_name(tmp_path):
    rec = registry.record("vqa")
    result = export_record(rec, "saved_model", "fp32", TestSet(rec, limit=64), out=str(tmp_path / "sm"))
    assert result["parity_max_abs_diff"] < 1e-4 and result["check_inputs"] == 64


def test_an_attention_peak_is_inside_a_box_by_its_cell_centre():
    maps = np.zeros((4, 8, 8), np.float32)
    maps[0, 0, 0] = maps[1, 7, 7] = maps[2, 3, 4] = maps[3, 0, 0] = 1  # cell centres (4, 4), (60, 60), (28, 36)
    boxes = np.array([[0, 0, 8, 8], [56, 56, 64, 64], [0, 0, 28, 64], [-1, -1, -1, -1]])
    assert attention_peaks_inside(maps, boxes, (64, 64)).tolist() == [True, True, False, False]


def test_int8_keeps_only_the_gates_and_the_attention_softmax_in_float(tmp_path):
    # A node pattern that matched the model's own scope ("stacked_attention_network/…") once left
    # the whole int8 file float. Every matrix product and every convolution but the first (over the
    # image's one channel: a thin convolution, `THIN_CONVOLUTION_CHANNELS`) runs in int8, the question
    # LSTM's one step in a loop included, and the loop answers the same on every call at batch > 1
    # (unrolled, XNNPACK refused the recurrent products in int8 at batch 32).
    from export.runtime import Runtime
    from export.tflite import op_counts, to_tflite

    model, questions = zoo.load("vqa"), QUESTIONS.inputs()
    check = {"images": IMAGES[:8], "questions": questions["questions"][:8]}
    path = tmp_path / "int8.tflite"
    report = to_tflite(model, path, quantize="int8", check_inputs=check,
                       representative=TestSet(registry.record("vqa")).calibration(64))
    counts = op_counts(path)
    assert counts[("CONV_2D", "int8")] == 2 and counts[("CONV_2D", "float32")] == 1
    assert report.int8_float["thin_convolutions"] == 1
    assert counts[("FULLY_CONNECTED", "int8")] > 0 and counts[("FULLY_CONNECTED", "float32")] == 0
    assert counts[("WHILE", "int32")] == 1 and counts[("SOFTMAX", "float32")] == model.hops  # the answer's in int8
    assert report.int8_float["nodes_matched"] == model.hops and report.int8_float["per_channel"] is False
    runtime = Runtime(path)
    calls = [runtime(**check)["probabilities"] for _ in range(3)]
    assert all(np.array_equal(calls[0], c) for c in calls[1:])
    assert np.mean(calls[0].argmax(-1) == np.asarray(model(check)).argmax(-1)) >= 7 / 8
