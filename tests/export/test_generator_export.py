"""DRAW's generator exported (noise → images) and run by `zoo predict` on LiteRT alone."""

import json

import numpy as np
from PIL import Image

from tests.helpers import zoo_cli_without_tensorflow
from zoo.cli import main


def test_export_then_generate_on_litert_without_tensorflow_as_keras_does(tmp_path, capsys):
    path = tmp_path / "draw.tflite"
    main(["export", "draw", "--out", str(path)])
    assert "parity max |LiteRT - Keras|" in capsys.readouterr().out
    meta = json.loads((tmp_path / "draw.tflite.json").read_text())
    assert meta["generator"]["steps"] > 0 and meta["check"]["parity_max_abs_diff"] <= 1e-4

    result = zoo_cli_without_tensorflow(["predict", path, tmp_path / "lite.png", "--samples", "4", "--seed", "3"])
    assert result.returncode == 0, result.stderr[-2000:]
    main(["predict", "draw", str(tmp_path / "keras.png"), "--samples", "4", "--seed", "3"])
    lite, keras_png = (np.asarray(Image.open(tmp_path / f"{n}.png"), "int16") for n in ("lite", "keras"))
    assert lite.shape == (28, 4 * 30 - 2) and lite.max() > 0
    assert np.abs(lite - keras_png).max() <= 1  # the same images, up to rounding to 8 bits


def test_a_generator_calibrates_on_noise_draws_other_than_its_checks():
    from recipes.testset import TestSet
    from zoo import decoding, registry

    rec = registry.record("draw")
    noise = TestSet(rec).calibration(4)["noise"]
    steps, latent = rec["config"]["steps"], rec["config"]["latent_dim"]
    np.testing.assert_array_equal(noise, decoding.standard_noise(4, steps, latent, seed=1))
    assert not np.array_equal(noise, decoding.standard_noise(4, steps, latent, seed=0))  # the checks' draws
