"""Translator export: `encode` + `step` signatures, LiteRT greedy/beam decoding equal to Keras, no TF needed."""

import json

import keras
import numpy as np
import pytest

import zoo
from export.seq2seq import Translator, to_tflite_translator
from recipes.data import dates
from tests.helpers import zoo_cli_without_tensorflow
from zoo.vocabulary import Vocabulary

SOURCES, _ = dates.load("test", limit=24)


def translator_model(kind):
    keras.utils.set_random_seed(0)
    tokens = Vocabulary.build(dates.load("train", limit=2000)[0]).tokens
    return zoo.load("seq2seq", weights=None, source_tokens=tokens, attention=kind, embedding_dim=8, units=8,
                    attention_units=8, window=3)


@pytest.mark.parametrize("kind", ["bahdanau", "local_m", "local_p", "none"])
def test_litert_decodes_like_keras(kind, tmp_path):
    model = translator_model(kind)
    path = tmp_path / "t.tflite"
    report = to_tflite_translator(model, path, SOURCES)
    assert report["identical_outputs_percent"] == 100.0 and report["identical_beam3_outputs_percent"] == 100.0
    assert report["max_abs_log_prob_diff"] <= 1e-4
    lite = Translator(path).translate(SOURCES[:4], beam_size=2)
    keras_out = model.translate(SOURCES[:4], beam_size=2)
    for a, b in zip(lite, keras_out):
        assert a["text"] == b["text"]
        np.testing.assert_allclose(a["alignments"], b["alignments"], atol=1e-5)


def test_int8_is_refused_and_dynamic_range_reports_agreement(tmp_path):
    model = translator_model("luong_general")
    with pytest.raises(ValueError, match="fp32, float16 or dynamic"):
        to_tflite_translator(model, tmp_path / "t.tflite", SOURCES, quantize="int8")
    assert not (tmp_path / "t.tflite").exists()
    report = to_tflite_translator(model, tmp_path / "d.tflite", SOURCES, quantize="dynamic")
    assert 0 <= report["identical_outputs_percent"] <= 100
    assert json.loads((tmp_path / "d.tflite.json").read_text())["quantize"] == "dynamic"


def test_zoo_predict_translates_on_litert_without_tensorflow(tmp_path):
    model = translator_model("bahdanau")
    path = tmp_path / "t.tflite"
    to_tflite_translator(model, path, SOURCES[:4])
    expected = model.translate(SOURCES[:1])[0]["text"]
    result = zoo_cli_without_tensorflow(["predict", path, SOURCES[0], "--beam", "3"], ["predict", path, SOURCES[0]])
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[2] == expected  # the greedy translation, as Keras decodes it


def test_saved_model_signatures_decode_like_keras(tmp_path):
    from export.saved_model import open_signatures
    from export.seq2seq import to_saved_model_translator

    model = translator_model("luong_dot")
    path = tmp_path / "t_saved_model"
    report = to_saved_model_translator(model, path, SOURCES)
    assert report["identical_outputs_percent"] == 100.0 and report["size_kib"] > 0
    assert json.loads((tmp_path / "t_saved_model.json").read_text())["check"] == report
    served = Translator(path, signatures=open_signatures(path)).translate(SOURCES[:4], beam_size=2)
    for a, b in zip(served, model.translate(SOURCES[:4], beam_size=2)):
        assert a["text"] == b["text"]
        np.testing.assert_allclose(a["alignments"], b["alignments"], atol=1e-5)
