"""TFLite and SavedModel export: parity-checked, builtin ops only, nothing unchecked kept."""

import json

import numpy as np
import pytest

import zoo
from export import ExportParityError, to_saved_model, to_tflite
from export import tflite as tflite_module
from export.runtime import Runtime
from tests.helpers import zoo_cli_without_tensorflow

CONFIG = {"image_shape": (24, 24, 1), "num_classes": 3, "filters": (4, 8), "kernel_size": 3, "units": 8,
          "class_names": ["cat", "dog", "owl"]}


@pytest.fixture(scope="module")
def stn():
    import keras

    keras.utils.set_random_seed(0)
    model = zoo.load("stn", weights=None, **CONFIG)
    # Move θ away from the identity so the sampler does real interpolation in the export.
    model.transformer.regressor.bias.assign(np.array([0.8, 0.2, 0.1, -0.15, 0.9, -0.05], "float32"))
    return model


def real_like(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 24, 24, 1), "float32")
    for i in range(n):  # bright blobs on black, like the zoo's data
        r, c = rng.integers(4, 16, 2)
        x[i, r : r + 8, c : c + 8] = rng.random((8, 8, 1))
    return x


def test_fp32_export_matches_keras_with_builtin_ops(stn, tmp_path):
    path = tmp_path / "stn.tflite"
    report = to_tflite(stn, path, check_inputs=real_like())
    assert path.exists() and report.size_bytes == path.stat().st_size
    assert report.max_abs_diff <= 1e-4 and report.top1_agreement == 1.0
    assert "GATHER" in report.ops and not any("Flex" in op for op in report.ops)
    runtime = Runtime(path)
    assert runtime.input_names == ["images"] and runtime.output_names == ["probabilities"]
    # The file holds the model's own preprocessing: raw [0, 1] images in, probabilities out.
    x = real_like(5, seed=3)
    np.testing.assert_allclose(runtime(images=x)["probabilities"], np.asarray(stn(x)), atol=1e-4)


@pytest.mark.parametrize("quantize", ["float16", "dynamic", "int8"])
def test_quantized_exports_are_run_and_reported(stn, tmp_path, quantize):
    path = tmp_path / f"stn_{quantize}.tflite"
    report = to_tflite(stn, path, quantize=quantize, representative=real_like(64), check_inputs=real_like(32, 1))
    fp32_size = len(tflite_module.convert(stn))
    assert path.exists() and report.size_bytes < fp32_size
    assert report.checked_examples == 32 and 0.0 <= report.top1_agreement <= 1.0
    assert np.isfinite(report.max_abs_diff)


def test_int8_needs_representative_data(stn, tmp_path):
    with pytest.raises(ValueError, match="int8 quantization needs representative inputs"):
        to_tflite(stn, tmp_path / "x.tflite", quantize="int8", check_inputs=real_like())


def test_nothing_is_written_without_check_inputs(stn, tmp_path):
    with pytest.raises(ValueError, match="needs real check_inputs"):
        to_tflite(stn, tmp_path / "x.tflite")
    assert not (tmp_path / "x.tflite").exists()


def test_a_file_that_fails_parity_is_not_kept(stn, tmp_path, monkeypatch):
    real_compare = tflite_module.compare

    def one_in_a_hundred_off(*args, **kwargs):
        report = real_compare(*args, **kwargs)
        report.max_abs_diff, report.matching = 1.0, 0.99
        return report

    monkeypatch.setattr(tflite_module, "compare", one_in_a_hundred_off)
    with pytest.raises(ExportParityError, match=r"99.00% of the \d+ check inputs match .* \(required 100%\).* was not written"):
        to_tflite(stn, tmp_path / "bad.tflite", check_inputs=real_like())
    assert list(tmp_path.iterdir()) == []
    stn.export_matching = 0.99  # a model whose path can fork at a boundary (RAM) admits a share
    try:
        to_tflite(stn, tmp_path / "ok.tflite", check_inputs=real_like())
    finally:
        del stn.export_matching
    assert (tmp_path / "ok.tflite").exists()


def test_agreement_is_per_input_within_atol_and_in_class():
    expected = {"probabilities": np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]]), "z": np.zeros((3, 2, 2))}
    got = {"probabilities": np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]]), "z": np.zeros((3, 2, 2))}
    got["z"][2, 1, 1] = 0.05
    diff, match = tflite_module.agreement(expected, got, atol=0.01)
    np.testing.assert_allclose(diff, [0.0, 0.2, 0.05])
    assert match.tolist() == [True, False, False]  # the second changes class, the third is off in z


def test_runtime_refuses_wrong_inputs(stn, tmp_path):
    path = tmp_path / "stn.tflite"
    to_tflite(stn, path, check_inputs=real_like())
    runtime = Runtime(path)
    with pytest.raises(ValueError, match=r"expects shape \(-1, 24, 24, 1\)"):
        runtime(images=np.zeros((1, 28, 28, 1), "float32"))
    with pytest.raises(ValueError, match="inputs must be exactly"):
        runtime(image=np.zeros((1, 24, 24, 1), "float32"))


def test_saved_model_signature_round_trip(stn, tmp_path):
    import tensorflow as tf

    report = to_saved_model(stn, tmp_path / "sm", check_inputs=real_like())
    assert report.max_abs_diff <= 1e-4 and report.checked_examples == len(real_like()) and report.size_bytes > 0
    signatures = tf.saved_model.load(str(report.path)).signatures
    x = real_like(3, seed=2)
    out = signatures["serving_default"](images=tf.constant(x))
    np.testing.assert_allclose(out["probabilities"].numpy(), np.asarray(stn(x)), atol=1e-5)
    one = signatures["serving_batch1"](images=tf.constant(x[:1]))
    np.testing.assert_allclose(one["probabilities"].numpy(), np.asarray(stn(x[:1])), atol=1e-5)
    assert signatures["serving_batch1"].structured_input_signature[1]["images"].shape[0] == 1
    assert signatures["serving_default"].structured_input_signature[1]["images"].shape[0] is None


def test_predict_on_tflite_runs_without_tensorflow(stn, tmp_path):
    path = tmp_path / "stn.tflite"
    to_tflite(stn, path, check_inputs=real_like())
    (tmp_path / "stn.tflite.json").write_text(json.dumps({"class_names": CONFIG["class_names"]}))
    np.save(tmp_path / "x.npy", real_like(1)[0])
    result = zoo_cli_without_tensorflow(["predict", path, tmp_path / "x.npy", "--top", "3"])
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3 and {line.split()[0] for line in lines} == {"cat", "dog", "owl"}


@pytest.mark.parametrize("core", ["relu", "lstm"])
def test_ram_inference_path_exports_with_builtin_ops(tmp_path, core):
    import keras

    keras.utils.set_random_seed(0)
    ram = zoo.load("ram", weights=None, image_shape=(24, 24, 1), num_classes=3, glimpses=3, glimpse_size=4,
                   scales=2, glimpse_units=8, location_units=8, hidden_units=16, core=core)
    # A non-zero location bias so glimpses leave the centre and straddle the border.
    ram.locator.bias.assign(np.array([0.6, -0.4], "float32"))
    report = to_tflite(ram, tmp_path / "ram.tflite", check_inputs=real_like())
    assert report.max_abs_diff <= 1e-4 and report.top1_agreement == 1.0
    assert "GATHER" in report.ops and not any("Flex" in op for op in report.ops)


def test_int8_keeps_the_pretrained_transformer_working(tmp_path):
    """Fully int8 sampler coordinates moved the grid off the object (-66 points); they stay float."""
    from recipes import data

    model = zoo.load("stn", weights="rts_mnist5k")
    images, _ = data.load_arrays("rts_mnist5k", "test", limit=256)
    train, _ = data.load_arrays("rts_mnist5k", "train", limit=200)
    report = to_tflite(model, tmp_path / "stn.int8.tflite", quantize="int8",
                       representative=train.astype("float32") / 255, check_inputs=images.astype("float32") / 255)
    assert report.top1_agreement >= 0.97


def test_a_conversion_failure_names_the_ops_tflite_lacks():
    from export.tflite import convert

    # RAM's random-glimpse baseline draws its locations at inference (stateless random ops).
    model = zoo.load("ram", weights=None, image_shape=(24, 24, 1), num_classes=3, glimpses=1, glimpse_size=4,
                     scales=1, random_glimpses=True)
    with pytest.raises(RuntimeError, match=r"RecurrentAttentionModel: TFLite has no builtin op for StatelessRandom"):
        convert(model)


def test_an_export_path_is_a_file_or_a_folder_made_when_named_with_a_slash(tmp_path):
    from export.records import tflite_path

    rec = {"model": "stn", "tag": "t"}
    assert tflite_path(rec, "fp32", str(tmp_path)) == tmp_path / "stn.t.tflite"  # an existing folder
    assert tflite_path(rec, "int8", f"{tmp_path}/new/") == tmp_path / "new" / "stn.t.int8.tflite"
    assert (tmp_path / "new").is_dir()
    assert tflite_path(rec, "fp32", str(tmp_path / "mine.tflite")) == tmp_path / "mine.tflite"
    assert not (tmp_path / "mine.tflite").exists()  # a file name: nothing made before the export passes
