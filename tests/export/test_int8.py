"""Full int8 that holds: the per-model float choice, float edges left float, the refusal naming the alternative."""

import numpy as np
import pytest

import zoo
from export import tflite as tflite_module
from export.runtime import Runtime
from export.tflite import Int8Refused, op_counts, to_tflite
from tests.export.test_export import CONFIG, real_like
from zoo import registry


@pytest.fixture()
def stn():
    import keras

    keras.utils.set_random_seed(0)
    model = zoo.load("stn", weights=None, **CONFIG)
    model.transformer.regressor.bias.assign(np.array([0.8, 0.2, 0.1, -0.15, 0.9, -0.05], "float32"))
    return model


def int8(model, path):
    return to_tflite(model, path, quantize="int8", representative=real_like(64), check_inputs=real_like(16, 1))


def round_trips(flatbuffer):
    """QUANTIZE ops whose output only goes on to (re)QUANTIZE or DEQUANTIZE: a float tensor rounded
    to int8 and back to float with no int8 op in between."""
    ops = Runtime(model_content=flatbuffer).interpreter._get_ops_details()
    consumers = {}
    for op in ops:
        for i in op["inputs"]:
            consumers.setdefault(i, []).append(op["op_name"])
    return sum(1 for op in ops if op["op_name"] == "QUANTIZE"
               and set(consumers.get(op["outputs"][0], ["?"])) <= {"QUANTIZE", "DEQUANTIZE"})


def test_the_model_float_choice_is_applied_and_recorded(stn, tmp_path):
    default = int8(stn, tmp_path / "default.tflite")
    assert default.int8_float["added_ops"] == [] and default.int8_float["nodes"] == []
    assert op_counts(tmp_path / "default.tflite")[("FULLY_CONNECTED", "int8")] > 0
    stn.int8_float_ops = ("FULLY_CONNECTED", "ADD")  # ADD is a default already: recorded once, not added
    report = int8(stn, tmp_path / "fc_float.tflite")
    counts = op_counts(tmp_path / "fc_float.tflite")
    assert report.int8_float["added_ops"] == ["FULLY_CONNECTED"]
    assert counts[("FULLY_CONNECTED", "int8")] == 0 and counts[("FULLY_CONNECTED", "float32")] > 0
    assert "FULLY_CONNECTED" in report.int8_float["float_op_types"]
    assert report.int8_float["quantize_dequantize_ops"] == counts[("QUANTIZE", "int8")] + counts[("DEQUANTIZE", "float32")]


def test_float_nodes_are_matched_by_name(stn, tmp_path):
    stn.int8_float_nodes = ("theta",)
    report = int8(stn, tmp_path / "nodes.tflite")
    assert report.int8_float["nodes"] == ["theta"] and report.int8_float["nodes_matched"] >= 1
    stn.int8_float_nodes = ("no_such_layer_name",)
    assert int8(stn, tmp_path / "none.tflite").int8_float["nodes_matched"] == 0


def test_edges_between_float_ops_are_not_rounded_through_int8(monkeypatch):
    # A small DRAW classifier: its filterbank parameters run through clips (MINIMUM, MAXIMUM) and
    # exponentials, all float, whose edges the quantizer would round through int8.
    model = zoo.load("draw_classifier", weights=None, image_shape=(24, 24, 1), num_classes=3, glimpses=2,
                     read_size=3, units=8)
    assert round_trips(tflite_module.convert_int8(model, real_like(32))[0]) == 0
    monkeypatch.setattr(tflite_module, "float_edges_uncalibrated", lambda model, ops, nodes: (model, []))
    assert round_trips(tflite_module.convert_int8(model, real_like(32))[0]) > 0


def test_internal_names_are_dropped_and_the_file_runs_the_same(stn, tmp_path):
    flatbuffer = tflite_module.convert_int8(stn, real_like(32))[0]
    stripped = tflite_module.without_internal_names(flatbuffer)
    assert stripped == flatbuffer  # convert_int8 already dropped them: dropping again changes nothing
    named = tflite_module.int8_debugger(stn, real_like(32))[0].get_nondebug_quantized_model()
    assert len(stripped) < len(named)
    x = real_like(4, 2)
    a, b = Runtime(model_content=named), Runtime(model_content=stripped)
    assert b.input_names == ["images"] and b.output_names == ["probabilities"]
    np.testing.assert_array_equal(a(images=x)["probabilities"], b(images=x)["probabilities"])


def test_a_model_that_does_not_hold_int8_is_refused_with_its_alternative(stn, tmp_path):
    stn.int8_alternative = ("dynamic", "measured: +10 BPC")
    with pytest.raises(Int8Refused, match=r"\(measured: \+10 BPC\); export it with quantize='dynamic' instead") as e:
        int8(stn, tmp_path / "x.tflite")
    assert "\n" not in str(e.value) and isinstance(e.value, ValueError)  # the command line prints it in one line
    assert not (tmp_path / "x.tflite").exists()
    to_tflite(stn, tmp_path / "dynamic.tflite", quantize="dynamic", check_inputs=real_like(8))  # the alternative works


def test_the_language_model_refuses_int8_and_names_dynamic():
    model = zoo.load("grid_lstm_lm", weights=None, tokens=tuple("ab"), units=4, depth=1, context=5)
    with pytest.raises(Int8Refused, match="quantize='dynamic'"):
        tflite_module.convert(model, "int8", representative=np.zeros((2, 5), "int32"))


def test_draw_classifier_card_records_its_float_choice():
    from zoo.models.draw_classifier import DrawClassifier

    cell = registry.record("draw_classifier", "cluttered100_fashion_mnist")["export"]["tflite_int8"]
    assert cell["int8_float"]["added_ops"] == list(DrawClassifier.int8_float_ops)
    assert set(DrawClassifier.int8_float_ops) <= set(cell["int8_float"]["float_op_types"])


def test_file_bytes_account_for_every_byte_of_a_file(stn, tmp_path):
    to_tflite(stn, tmp_path / "fp32.tflite", check_inputs=real_like(8))
    int8(stn, tmp_path / "int8.tflite")
    f, q = (tflite_module.file_bytes(tmp_path / f"{n}.tflite") for n in ("fp32", "int8"))
    for parts, name in ((f, "fp32"), (q, "int8")):
        assert parts["file"] == (tmp_path / f"{name}.tflite").stat().st_size
        assert parts["constants"] + parts["quantization"] + parts["names"] + parts["graph"] == parts["file"]
        assert min(parts.values()) >= 0 and parts["ops"] > 0 and parts["tensors"] > parts["ops"] // 2
    n_weights = stn.count_params()
    assert f["constants"] >= 4 * n_weights > q["constants"] >= n_weights  # int8 stores a byte a weight (+ int32 biases)
    assert f["quantization"] == 0 < q["quantization"] and q["names"] < f["names"]  # int8 drops internal names


def test_a_convolution_over_a_thin_input_stays_float(tmp_path, monkeypatch):
    # The first convolution reads 1 channel (int8 would be slower than float), the second 8: int8.
    model = zoo.load("cnn", weights=None, image_shape=(24, 24, 1), num_classes=3, filters=(8, 8), kernel_size=3, units=8)
    report = to_tflite(model, tmp_path / "cnn.tflite", quantize="int8", representative=real_like(32),
                       check_inputs=real_like(8, 1))
    counts = op_counts(tmp_path / "cnn.tflite")
    assert report.int8_float["thin_convolutions"] == 1
    assert counts[("CONV_2D", "float32")] == 1 and counts[("CONV_2D", "int8")] == 1
    monkeypatch.setattr(tflite_module, "THIN_CONVOLUTION_CHANNELS", 1)
    report = to_tflite(model, tmp_path / "all.tflite", quantize="int8", representative=real_like(32),
                       check_inputs=real_like(8, 1))
    assert report.int8_float["thin_convolutions"] == 0 and op_counts(tmp_path / "all.tflite")[("CONV_2D", "int8")] == 2
