"""Captioner export: `encode` + `step` signatures, LiteRT greedy/beam captions equal to Keras, no TF needed."""

import json

import keras
import numpy as np
import pytest

import zoo
from export.captioner import Captioner, to_tflite_captioner
from recipes import data
from recipes.data import scenes
from tests.helpers import zoo_cli_without_tensorflow

DATASET = "scenes_fashion_mnist"
IMAGES = data.for_model(data.load_scenes(DATASET, "test", limit=12).images)


def captioner_model(kind, init="mean"):
    keras.utils.set_random_seed(0)
    return zoo.load("show_attend_tell", weights=None, tokens=scenes.words(DATASET), attention=kind, init=init,
                    filters=(4, 8, 8), embedding_dim=8, units=16, attention_units=8)


@pytest.mark.parametrize("kind, init", [("soft", "zeros"), ("soft", "mean"), ("hard", "zeros"), ("none", "zeros")])
def test_litert_captions_like_keras(kind, init, tmp_path):
    model = captioner_model(kind, init)
    path = tmp_path / "c.tflite"
    report = to_tflite_captioner(model, path, IMAGES)
    assert report["identical_outputs_percent"] == 100.0 and report["identical_beam3_outputs_percent"] == 100.0
    assert report["max_abs_log_prob_diff"] <= 1e-4
    lite, keras_out = Captioner(path).caption(IMAGES[:4], beam_size=2), model.caption(IMAGES[:4], beam_size=2)
    for a, b in zip(lite, keras_out):
        assert a["text"] == b["text"]
        np.testing.assert_allclose(a["attention"], b["attention"], atol=1e-5)


def test_int8_is_refused_and_bad_images_are_named(tmp_path):
    model = captioner_model("soft")
    with pytest.raises(ValueError, match="fp32, float16 or dynamic"):
        to_tflite_captioner(model, tmp_path / "c.tflite", IMAGES, quantize="int8")
    assert not (tmp_path / "c.tflite").exists()
    report = to_tflite_captioner(model, tmp_path / "d.tflite", IMAGES, quantize="dynamic")
    assert 0 <= report["identical_outputs_percent"] <= 100
    assert json.loads((tmp_path / "d.tflite.json").read_text())["quantize"] == "dynamic"
    with pytest.raises(ValueError, match=r"expected float images \(batch, 64, 64, 1\)"):
        Captioner(tmp_path / "d.tflite").caption(IMAGES[0])


def test_zoo_predict_captions_on_litert_without_tensorflow(tmp_path):
    model = captioner_model("soft")
    path = tmp_path / "c.tflite"
    to_tflite_captioner(model, path, IMAGES[:4])
    image = tmp_path / "scene.npy"
    np.save(image, IMAGES[0])
    expected = model.caption(IMAGES[:1], beam_size=1)[0]["text"]
    result = zoo_cli_without_tensorflow(["predict", path, image])
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[0] == expected


def test_saved_model_signatures_caption_like_keras(tmp_path):
    from export.captioner import to_saved_model_captioner
    from export.saved_model import open_signatures

    model = captioner_model("soft")
    path = tmp_path / "c_saved_model"
    report = to_saved_model_captioner(model, path, IMAGES)
    assert report["identical_outputs_percent"] == 100.0 and report["identical_beam3_outputs_percent"] == 100.0
    served = Captioner(path, signatures=open_signatures(path)).caption(IMAGES[:4], beam_size=2)
    for a, b in zip(served, model.caption(IMAGES[:4], beam_size=2)):
        assert a["text"] == b["text"]
        np.testing.assert_allclose(a["attention"], b["attention"], atol=1e-5)
