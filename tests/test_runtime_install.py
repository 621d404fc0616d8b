"""The runtime-only install: `pip install .` with no extras brings no TensorFlow, Keras or JAX, and
its `zoo predict` runs an exported `.tflite` (with its `.json` sidecar) of each task (classifier,
translator, captioner), printing what the full install's Keras model answers. The files are written
as users write them: `zoo export stn` (its sidecar holds the class names) and the decoder exports
that tests/export/test_seq2seq_export.py and test_captioner_export.py use, on pretrained weights.

One test, so that pytest-xdist (`make test -n 2`) builds the virtual environment once.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "keras", "jax")


def run(args, cwd, **kwargs):
    """Run a command outside the checkout (so `import zoo` cannot find it) and without PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="session")
def runtime_venv(tmp_path_factory):
    """A venv with `pip install .` (no extras) of a copy of the repository; its path."""
    tmp = tmp_path_factory.mktemp("runtime_install")
    # Build from a copy (without .venv, .git and run outputs): an in-tree build would write build/
    # and *.egg-info into the checkout.
    source = tmp / "source"
    ignore = shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "runs", "out", "demo_out")
    shutil.copytree(ROOT, source, ignore=ignore)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    result = run([venv / "bin" / "python", "-m", "pip", "install", "-q", source], cwd=tmp, timeout=600)
    if result.returncode != 0:
        # Skipped, not failed, where pip cannot reach the package index (it cannot fetch setuptools).
        probe = run([venv / "bin" / "python", "-m", "pip", "download", "-q", "--no-deps", "-d", tmp / "probe",
                     "setuptools>=68"], cwd=tmp, timeout=300)
        if probe.returncode != 0:
            errors = [line for line in probe.stderr.splitlines() if line.startswith("ERROR")] or ["?"]
            pytest.skip(f"pip cannot reach the package index to install the runtime: {errors[0]}")
        pytest.fail(f"pip install of the runtime failed:\n{result.stderr[-3000:]}")
    return venv


def zoo_predict(venv, *args):
    """`VENV/bin/zoo predict ARGS`'s printed lines; fails with its stderr if it fails."""
    result = run([venv / "bin" / "zoo", "predict", *args], cwd=venv, timeout=120)
    assert result.returncode == 0, f"zoo predict {args} failed:\n{result.stderr[-2000:]}"
    return result.stdout.splitlines()


def classifier(venv, tmp):
    """The top class `zoo predict` prints for an RTS Fashion-MNIST PNG, and Keras's."""
    from PIL import Image

    import zoo
    from recipes import data
    from zoo.cli import main

    main(["export", "stn", "--out", str(tmp / "stn.tflite"), "--eval-limit", "4"])  # + stn.tflite.json
    images, _ = data.load_arrays("rts_fashion_mnist", "test", limit=1)
    Image.fromarray(images[0, ..., 0]).save(tmp / "item.png")
    model = zoo.load("stn")
    expected = model.class_names[int(np.argmax(model(images.astype("float32") / 255)[0]))]
    first = zoo_predict(venv, tmp / "stn.tflite", tmp / "item.png")[0]  # "   Ankle boot   97.12%"
    return first.rsplit(None, 1)[0].strip(), expected


def translator(venv, tmp):
    """The translation `zoo predict` prints for a test date, and Keras's."""
    import zoo
    from export.seq2seq import to_tflite_translator
    from recipes.data import dates

    texts, _ = dates.load("test", limit=4)
    model = zoo.load("seq2seq")
    to_tflite_translator(model, tmp / "seq2seq.tflite", texts)
    expected = model.translate(texts[:1])[0]["text"]
    return zoo_predict(venv, tmp / "seq2seq.tflite", texts[0])[0], expected


def captioner(venv, tmp):
    """The caption `zoo predict` prints for a test scene PNG, and Keras's."""
    from PIL import Image

    import zoo
    from export.captioner import to_tflite_captioner
    from recipes import data

    images = data.load_scenes("scenes_fashion_mnist", "test", limit=4).images
    model = zoo.load("show_attend_tell")
    to_tflite_captioner(model, tmp / "sat.tflite", data.for_model(images))
    Image.fromarray(images[0, ..., 0]).save(tmp / "scene.png")
    expected = model.caption(data.for_model(images[:1]), beam_size=1)[0]["text"]
    return zoo_predict(venv, tmp / "sat.tflite", tmp / "scene.png")[0], expected


def test_runtime_only_install_predicts_every_task_like_keras(runtime_venv, tmp_path):
    python = runtime_venv / "bin" / "python"
    check = (f"import importlib.util as u, zoo; print([m for m in {HEAVY!r} if u.find_spec(m)]); "
             "print(zoo.__file__)")
    result = run([python, "-c", check], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    importable, zoo_file = result.stdout.splitlines()
    assert importable == "[]", f"the runtime install has {importable}"
    assert zoo_file.startswith(str(runtime_venv)), f"zoo imported from {zoo_file}, not the runtime install"

    # A command that needs Keras names the extra to install.
    result = run([runtime_venv / "bin" / "zoo", "export", "stn"], cwd=tmp_path, timeout=120)
    assert result.returncode != 0 and "attention-zoo[full]" in result.stderr, result.stderr[-2000:]

    answers = {task.__name__: task(runtime_venv, tmp_path) for task in (classifier, translator, captioner)}
    assert {task: got for task, (got, _) in answers.items()} == {task: want for task, (_, want) in answers.items()}
