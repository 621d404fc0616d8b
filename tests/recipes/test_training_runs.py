"""Training that survives being killed, runs on several workers, and in mixed precision.

Runs are real `zoo train` processes on a small slice of a recipe (a few steps each).
"""

import json
import math
import os
import signal
import socket
import subprocess
import sys

import h5py
import keras
import numpy as np
import pytest

from recipes import configs, distribute, train
from recipes.backup import EpochBackup
from zoo import cards

RECIPE, ARGS = "cnn_rts_mnist5k", ["--epochs", "3", "--limit", "640"]  # 5 steps an epoch; the CNN has dropout
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

# Trains like `zoo train` but SIGKILLs itself (no clean-up of any kind) in the middle of epoch 2.
KILLED_RUN = """
import os, signal, sys, keras
from recipes import train

class KillMidEpoch(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == 1 and batch == 2:
            os.kill(os.getpid(), signal.SIGKILL)

train.train(sys.argv[1], out_dir=sys.argv[2], run_dir=sys.argv[3], epochs=3, limit=640, callbacks=[KillMidEpoch()])
"""


def zoo_train(*args, env=ENV, timeout=300):
    return subprocess.run([sys.executable, "-m", "zoo.cli", "train", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def weights(path):
    """Every array of a weights file by its path inside the file."""
    arrays = {}

    def keep(name, obj):  # returns None, so that visititems goes on to the next (a value would stop it)
        if isinstance(obj, h5py.Dataset):
            arrays[name] = obj[()]

    with h5py.File(path) as f:
        f.visititems(keep)
    return arrays


def assert_same_weights(a, b):
    a, b = weights(a), weights(b)
    assert a.keys() == b.keys() and a
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_a_killed_run_resumes_from_its_backup_and_ends_with_the_uninterrupted_weights(tmp_path):
    whole = zoo_train(RECIPE, *ARGS, "--out", str(tmp_path / "whole"), "--run-dir", str(tmp_path / "run-whole"))
    assert whole.returncode == 0, whole.stderr[-3000:]
    assert not (tmp_path / "run-whole" / "backup").exists()  # removed once the weights are written

    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, RECIPE, str(tmp_path / "resumed"),
                             str(tmp_path / "run")], capture_output=True, text=True, env=ENV, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert [p.name for p in (tmp_path / "run" / "backup").iterdir()] == ["epoch-0001"]
    assert not (tmp_path / "resumed" / "cnn.rts_mnist5k.weights.h5").exists()

    # Restart from the recipe file the first run wrote: same recipe, epochs and limit.
    recipe_file = tmp_path / "whole" / "cnn.rts_mnist5k.recipe.json"
    resumed = zoo_train(str(recipe_file), "--out", str(tmp_path / "resumed"), "--run-dir", str(tmp_path / "run"))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming cnn_rts_mnist5k after epoch 1" in resumed.stdout
    assert_same_weights(tmp_path / "whole" / "cnn.rts_mnist5k.weights.h5",
                        tmp_path / "resumed" / "cnn.rts_mnist5k.weights.h5")
    assert json.loads(recipe_file.read_text())["run"] == {"limit": 640, "strategy": "default"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_workers_on_localhost_train_in_sync(tmp_path):
    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    workers = []
    for index in range(2):
        env = {**ENV, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        args = [sys.executable, "-m", "zoo.cli", "train", RECIPE, "--strategy", "multi_worker", "--epochs", "2",
                "--limit", "512", "--out", str(tmp_path / f"w{index}"), "--run-dir", str(tmp_path / f"run{index}")]
        workers.append(subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    try:
        outputs = [w.communicate(timeout=300) for w in workers]
    finally:
        for w in workers:
            w.kill()
    assert [w.returncode for w in workers] == [0, 0], outputs[0][1][-3000:] + outputs[1][1][-3000:]
    assert_same_weights(tmp_path / "w0" / "cnn.rts_mnist5k.weights.h5", tmp_path / "w1" / "cnn.rts_mnist5k.weights.h5")
    training = cards.get("cnn", "rts_mnist5k", tmp_path / "w0").training
    assert training.replicas == 2 and training.batch_size == 256  # 128 per replica
    assert training.optimizer == "Adam, cosine decay from 0.002"  # linear scaling
    assert "epoch 2/2: " in outputs[0][0] and not (tmp_path / "run1" / "tensorboard").exists()  # chief logs


def test_jax_data_parallel_splits_each_batch_over_devices(tmp_path):
    pytest.importorskip("jax")
    env = {**ENV, "KERAS_BACKEND": "jax", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    run = zoo_train(RECIPE, "--strategy", "mirrored", "--epochs", "1", "--limit", "512", "--out", str(tmp_path),
                    "--run-dir", str(tmp_path / "run"), env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    training = cards.get("cnn", "rts_mnist5k", tmp_path).training
    assert training.backend == "jax" and training.replicas == 2 and training.batch_size == 256


# Makes `import tensorflow` fail in a child process, as on a machine with JAX and no TensorFlow.
HIDE_TENSORFLOW = """
import builtins, importlib.util
_import, _find = builtins.__import__, importlib.util.find_spec
def _hidden(name, *args, **kwargs):
    if name == "tensorflow" or name.startswith("tensorflow."):
        raise ImportError("No module named 'tensorflow' (hidden by the test)")
    return _import(name, *args, **kwargs)
builtins.__import__ = _hidden
importlib.util.find_spec = lambda name, *a: None if name.split(".")[0] == "tensorflow" else _find(name, *a)
"""


def test_jax_training_needs_no_tensorflow(tmp_path):
    pytest.importorskip("jax")
    (tmp_path / "hide").mkdir()
    (tmp_path / "hide" / "sitecustomize.py").write_text(HIDE_TENSORFLOW)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**ENV, "KERAS_BACKEND": "jax", "PYTHONPATH": os.pathsep.join([str(tmp_path / "hide"), repo])}
    # A RAM recipe with fresh draws: a new cluttered variant each epoch, from NumPy batches.
    run = zoo_train("ram_translated60_mnist5k", "--epochs", "2", "--limit", "256", "--out", str(tmp_path),
                    "--run-dir", str(tmp_path / "run"), env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "TensorFlow is not installed: no TensorBoard logs" in run.stdout
    assert "epoch 2/2: " in run.stdout
    card = cards.get("ram", "translated60_mnist5k", tmp_path)
    assert card.training.backend == "jax" and card.data.fresh_draws


@pytest.mark.parametrize("recipe", ["cnn_rts_mnist5k", "stn_rts_mnist5k", "ram_translated60_mnist5k", "seq2seq_dates_bahdanau"])
def test_mixed_precision_losses_stay_finite(tmp_path, recipe):
    losses = []
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: losses.append(logs["loss"]))
    card = train.train(recipe, out_dir=tmp_path, epochs=1, limit=384, mixed_precision="mixed_float16",
                       run_dir=tmp_path / "run", callbacks=[record], verbose=0)
    assert len(losses) == 3 and all(math.isfinite(float(v)) for v in losses)
    assert card["training"]["mixed_precision"] == "mixed_float16"
    assert cards.get(card["model"], card["tag"], tmp_path).training.mixed_precision == "mixed_float16"
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored


def tiny_model():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dropout(0.5), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    model.fit(np.ones((8, 3)), np.ones((8, 1)), verbose=0)
    return model


def test_a_backup_is_written_whole_or_not_at_all(tmp_path):
    model = tiny_model()
    backup = EpochBackup(tmp_path)
    backup.set_model(model)
    backup.save(1)

    def crash(path, **kwargs):
        open(path, "wb").write(b"half a file")
        raise OSError("disk full")

    model.save_weights = crash
    with pytest.raises(OSError, match="disk full"):
        backup.save(2)
    assert [p.name for p in tmp_path.iterdir()] == ["epoch-0001"]  # the old one intact, no leftovers
    assert backup.latest()[0] == 1


def test_a_backup_resumes_only_the_run_that_wrote_it(tmp_path):
    model = tiny_model()
    backup = EpochBackup(tmp_path, run='{"epochs": 3}')
    backup.set_model(model)
    backup.save(1)
    with pytest.raises(ValueError, match="belongs to another run .* Delete"):
        EpochBackup(tmp_path, run='{"epochs": 5}').restore(model)
    assert EpochBackup(tmp_path, run='{"epochs": 3}').restore(model) == 1


def test_restore_brings_back_weights_optimizer_and_random_states(tmp_path):
    model = tiny_model()
    backup = EpochBackup(tmp_path)
    backup.set_model(model)
    backup.save(4)
    expected = [keras.ops.convert_to_numpy(v) for v in model.variables + model.optimizer.variables]
    fresh = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dropout(0.5), keras.layers.Dense(1)])
    fresh.compile("adam", "mse")
    assert backup.restore(fresh) == 4
    restored = [keras.ops.convert_to_numpy(v) for v in fresh.variables + fresh.optimizer.variables]
    assert len(restored) == len(expected)
    for a, b in zip(expected, restored):
        np.testing.assert_array_equal(a, b)

    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    other.compile("adam", "mse")
    with pytest.raises(ValueError, match="different model or recipe; delete"):
        backup.restore(other)


def test_strategy_errors_say_what_is_needed(monkeypatch):
    with pytest.raises(ValueError, match="unknown strategy 'mirored'; choose one of default, mirrored"):
        distribute.plan("mirored")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    if keras.backend.backend() == "tensorflow":
        with pytest.raises(ValueError, match="TF_CONFIG environment variable, which is not set"):
            distribute.plan("multi_worker")
    assert distribute.plan("default").replicas == 1


def test_a_recipe_file_that_cannot_be_read_is_refused_by_path(tmp_path):
    bad = tmp_path / "cnn.x.recipe.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=f"cannot read the recipe file {bad}"):
        configs.get(str(bad))


@pytest.mark.parametrize("recipe", ["ram_cluttered400_mnist5k_lstm_300e", "cnn_cluttered400_mnist5k_equal_macs_300e",
                                    "cnn_cluttered200_mnist5k_300e"])
def test_the_cost_vs_size_recipes_train_two_batches(tmp_path, recipe):
    """Issue 32's GPU recipes, one of each model at its largest size, smoke-tested: 2 streamed batches
    (128 + 8 examples) of one epoch (the others differ from these in the dataset only)."""
    card = train.train(recipe, out_dir=tmp_path, epochs=1, limit=136, run_dir=tmp_path / "run", verbose=0)
    assert card["data"]["train_examples"] == 136 and card["training"]["epochs"] == 1
