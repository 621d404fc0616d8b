"""A training run writes only where it is told, removes only what it wrote, refuses unsafe names,
and stops on a non-finite loss; a corrupt backup is passed over (issue 28, items 1–3, 5 and 6)."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from recipes import configs, train
from recipes.backup import EpochBackup, NonFiniteLoss

RECIPE = "cnn_rts_mnist5k"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def zoo(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "zoo.cli", *args], capture_output=True, text=True, env=ENV,
                          cwd=cwd, timeout=300)


def test_the_end_of_a_run_removes_its_backups_and_nothing_else(tmp_path):
    (tmp_path / "run" / "backup").mkdir(parents=True)
    (tmp_path / "run" / "backup" / "thesis.tex").write_text("years of work")
    train.train(RECIPE, out_dir=tmp_path / "out", run_dir=tmp_path / "run", epochs=2, limit=128)
    assert (tmp_path / "run" / "backup" / "thesis.tex").read_text() == "years of work"
    assert sorted(p.name for p in (tmp_path / "run" / "backup").iterdir()) == ["thesis.tex"]
    weights = tmp_path / "out" / "cnn.rts_mnist5k.weights.h5"
    assert weights.stat().st_mode & 0o777 == 0o666 & ~_umask()  # readable by others, as any file a user writes


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_by_default_a_run_writes_into_its_run_directory_and_never_replaces_weights_unasked(tmp_path):
    run = zoo("train", RECIPE, "--epochs", "1", "--limit", "128", cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert (tmp_path / "runs" / RECIPE / "cnn.rts_mnist5k.weights.h5").exists()
    again = zoo("train", RECIPE, "--epochs", "1", "--limit", "128", cwd=tmp_path)
    assert again.returncode != 0 and "Traceback" not in again.stderr  # one line (after TensorFlow's own start-up lines)
    assert again.stderr.strip().splitlines()[-1].startswith("zoo train: runs/cnn_rts_mnist5k/cnn.rts_mnist5k.weights.h5 "
                                                            "exists: pass --force")
    assert zoo("train", RECIPE, "--epochs", "1", "--limit", "128", "--force", cwd=tmp_path).returncode == 0


def test_zero_epochs_and_unsafe_names_are_refused(tmp_path):
    zero = zoo("train", RECIPE, "--epochs", "0", "--out", str(tmp_path))
    assert zero.returncode != 0 and "at least 1 epoch" in zero.stderr and not any(tmp_path.iterdir())
    recipe = json.loads(configs.to_json(configs.get(RECIPE)))
    for field, value in (("name", "../../victim"), ("tag", "x/../../../../elsewhere/ESCAPED")):
        path = tmp_path / f"{field}.recipe.json"
        path.write_text(json.dumps({**recipe, field: value}))
        with pytest.raises(ValueError, match=f"recipe's {field} must be"):
            train.train(str(path), out_dir=tmp_path / "out", run_dir=tmp_path / "run", epochs=1, limit=128)
    assert not (tmp_path / "out").exists() and not (tmp_path / "run").exists()


def small_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.Adam(1e-2), loss="mse")
    return model


def test_a_corrupt_backup_is_passed_over_for_the_one_before(tmp_path, capsys):
    model, x = small_model(), np.ones((8, 3), "float32")
    backup = EpochBackup(tmp_path, run="run")
    model.fit(x, x[:, :2], epochs=3, verbose=0, callbacks=[backup])
    assert [n for n, _ in backup.backups()] == [3, 2]  # the last two are kept
    state = tmp_path / "epoch-0003" / "state.weights.h5"
    data = bytearray(state.read_bytes())
    data[len(data) // 2] ^= 1  # one flipped bit
    state.write_bytes(bytes(data))
    assert EpochBackup(tmp_path, run="run").restore(small_model()) == 2
    assert "state.weights.h5 does not match its sha256" in capsys.readouterr().out


def test_a_non_finite_loss_stops_the_run_and_keeps_the_last_good_backup(tmp_path):
    class Poison(keras.callbacks.Callback):  # the weights become NaN in the middle of epoch 2
        def on_train_batch_begin(self, batch, logs=None):
            if self.epoch == 1 and batch == 2:
                for variable in self.model.trainable_variables:
                    variable.assign(np.full(variable.shape, np.nan, "float32"))

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    with pytest.raises(NonFiniteLoss, match=r"epoch 2, step 3.*epoch-0001.*last good backup"):
        train.train(RECIPE, out_dir=tmp_path / "out", run_dir=tmp_path / "run", epochs=3, limit=640,
                    callbacks=[Poison()])
    assert not (tmp_path / "out").exists()  # no NaN weights, no card
    assert [p.name for p in (tmp_path / "run" / "backup").iterdir()] == ["epoch-0001"]
