"""The stroke writer's export: the step as TFLite checked on real states, the LiteRT `Writer` writing
texts and stopping where the window passes the last character, its teacher-forced NLL against
Keras's, its sampler against the mixture's moments, and `zoo predict` on the file."""

import argparse
import json
import subprocess
import sys

import keras
import numpy as np
import pytest

import zoo
from export import stroke_writer
from export.runtime import Runtime
from recipes import data
from recipes.testset import EXAMPLES
from tests.zoo.test_handwriting import hand_set_window

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TFLite export converts TensorFlow graphs")

REC = {"model": "handwriting", "tag": "tiny", "data": {"dataset": "strokes_kjv", "test_split": "test"}}
SMALL = dict(tokens=data.info("strokes_kjv")["tokens"], max_text_len=25, units=8, layers=2, components=3, window=2)


class Lines:
    """A `recipes.testset.TestSet` of the first `limit` strokes_kjv test lines."""

    limit = 4

    def examples(self, n=None):
        return EXAMPLES["stroke_writer"](REC, self.limit if n is None else n)

    def metrics(self, model):
        from recipes.evaluate import evaluate_strokes

        return evaluate_strokes(model, "strokes_kjv", "test", self.limit)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = zoo.load("handwriting", weights=None, **SMALL)
    model.build_for_inputs()
    hand_set_window(model, 0.25)  # a window that reaches the end of a text: 4 points a character
    path = tmp_path_factory.mktemp("hw") / "hw.tflite"
    cell = stroke_writer.export_stroke_writer(model, REC, "tflite", "fp32", Lines(), str(path))
    return model, path, cell


def test_the_step_matches_keras_on_real_states(exported):
    model, path, cell = exported
    assert cell["parity_max_abs_diff"] < 1e-4 and cell["check_inputs"] == 8 * 32 and cell["size_kib"] > 0
    assert cell["latency_ms_per_point_litert"] > 0 and cell["test_examples"] == 4
    feed = stroke_writer.check_inputs(model, Lines().examples(2)[0], lines=2, steps=5)
    assert feed["state_kappa"][2:].min() > 0 and not np.allclose(feed["state_h"][2:], 0)  # states reached, not zeros
    lite = Runtime(path)(**feed)
    keras_out = model.serving_signature()[1](**feed)
    for name in ("pi", "mu", "sigma", "rho", "end_of_stroke", "phi", "phi_end", "state_h", "state_kappa"):
        np.testing.assert_allclose(lite[name], np.asarray(keras_out[name]), atol=1e-4, err_msg=name)
    sidecar = json.loads((path.parent / "hw.tflite.json").read_text())
    assert sidecar["stroke_writer"]["tokens"] == SMALL["tokens"] and sidecar["check"]["parity_max_abs_diff"] < 1e-4


def test_the_writer_writes_and_stops_as_the_model_does(exported):
    model, path, _ = exported
    writer = stroke_writer.Writer(path)
    # κ advances 0.25 a step: the window passes U + 0.5 after ⌊(U + 0.5)/0.25⌋ points, as in Keras.
    lines = writer.write(["ab", "hello world"], bias=1.0, seed=3)
    assert [len(r["strokes"]) for r in lines] == [len(r["strokes"]) for r in model.write(["ab", "hello world"])] == [10, 46]
    for r in lines:
        assert r["phi"].shape == (len(r["strokes"]), len(r["text"])) and r["strokes"][-1, 2] == 1.0
        assert np.all(np.diff(r["phi"].argmax(1)) >= 0)
    again = writer.write(["ab", "hello world"], bias=1.0, seed=3)
    np.testing.assert_array_equal(again[1]["strokes"], lines[1]["strokes"])
    with pytest.raises(ValueError, match=r"unknown: \['!'\]"):
        writer.write(["hi!"])


def test_the_writers_nll_through_the_file_is_keras(exported):
    _, _, cell = exported
    assert np.isfinite(cell["test_nll_keras"]) and abs(cell["nll_change"]) < 0.01


def test_the_numpy_sampler_draws_the_mixture():
    rng = np.random.default_rng(0)
    out = {"pi": np.array([[0.3, 0.7]]), "mu": np.array([[[0.0, 0.0], [2.0, -1.0]]]),
           "sigma": np.array([[[1.0, 1.0], [0.5, 2.0]]]), "rho": np.array([[0.0, 0.8]]),
           "end_of_stroke": np.array([[0.2]])}
    many = {k: np.repeat(v, 40_000, 0) for k, v in out.items()}
    x = stroke_writer.sample(many, rng)
    pi, mu, sigma, rho = out["pi"][0], out["mu"][0], out["sigma"][0], out["rho"][0]
    covariances = [np.array([[s1 * s1, r * s1 * s2], [r * s1 * s2, s2 * s2]]) for (s1, s2), r in zip(sigma, rho)]
    mean = pi @ mu  # the mixture's mean and covariance: Σ_j π_j (Σ_j + μ_j μ_jᵀ) − μ μᵀ
    covariance = sum(p * (c + np.outer(m, m)) for p, c, m in zip(pi, covariances, mu)) - np.outer(mean, mean)
    np.testing.assert_allclose(x[:, :2].mean(0), mean, atol=0.03)
    np.testing.assert_allclose(np.cov(x[:, :2].T), covariance, atol=0.06)
    np.testing.assert_allclose(x[:, 2].mean(), 0.2, atol=0.01)


def test_zoo_predict_writes_the_text_from_the_file_without_tensorflow(exported, tmp_path):
    _, path, _ = exported
    out = tmp_path / "hello.png"
    code = ("import sys; from zoo.cli import main; "
            f"main(['predict', {str(path)!r}, 'hello world', '--out', {str(out)!r}, '--bias', '2']); "
            "assert not {'tensorflow', 'keras', 'jax'} & set(sys.modules), 'a framework was imported'")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "'hello world' in 46 points" in run.stdout and "character 11 of 11" in run.stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_zoo_predict_writes_the_text_with_keras(exported, tmp_path, capsys):
    from zoo.cli import predict

    model, _, _ = exported
    args = argparse.Namespace(input="hello world", bias=0.5, seed=0, out=str(tmp_path / "keras.png"))
    predict.MODEL["stroke_writer"](model, args)
    assert "'hello world' in 46 points" in capsys.readouterr().out
    assert (tmp_path / "keras.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
