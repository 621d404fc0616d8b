"""Fault tolerance: back up the whole training state at every epoch end, atomically; resume from it.

A backup is one directory `BACKUP_DIR/epoch-NNNN/` (N finished epochs) holding
    state.weights.h5   the model's weights and the optimizer's state (step count, moments)
    random.npz         the random-generator states (dropout, sampled glimpses), which weights
                       files leave out but which an identical continuation needs
    run.json           what the run is (recipe, limit, strategy): a backup resumes that run only
    progress.json      the seconds spent training so far, over every session that resumed the run
It is written under a temporary name and renamed in one step, then older backups are removed:
a kill at any moment leaves the previous backup or the new one, never half of one.

Keras's `BackupAndRestore` does the same job but writes its files in place (a kill while it
writes leaves a corrupt backup) and does not save random-generator states, so a resumed run
with dropout drifts from an uninterrupted one; hence this callback.
"""

import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

_NAME = re.compile(r"^epoch-(\d{4,})$")


def _random_states(model):
    """The model's variables that `save_weights` leaves out: SeedGenerator states."""
    saved = {id(v) for v in model.weights}
    return [v for v in model.variables if id(v) not in saved]


class EpochBackup(keras.callbacks.Callback):
    """Writes `epoch-NNNN/` into `directory` after every epoch; `restore` resumes from the newest.

    `write=False` (non-chief workers of a multi-worker run) takes part in the save, which is a
    collective operation under some strategies, but writes into a throwaway directory.
    """

    def __init__(self, directory, run="", write=True):
        super().__init__()
        self.directory = Path(directory)
        self.run = run
        self.write = write
        self.seconds = 0.0  # training time before this session, from the restored backup
        self.started = time.time()

    def latest(self):
        """(finished epochs, path) of the newest complete backup, or (0, None)."""
        found = [(int(m.group(1)), p) for p in self.directory.glob("epoch-*") if (m := _NAME.match(p.name))]
        return max(found, default=(0, None))

    def restore(self, model):
        """Load the newest backup into the compiled `model`; returns its number of finished epochs."""
        epochs, path = self.latest()
        if path is None:
            return 0
        run = (path / "run.json").read_text() if (path / "run.json").exists() else ""
        if run != self.run:
            raise ValueError(
                f"the backup {path} belongs to another run (its run.json differs from this run's: recipe, "
                f"epochs, limit or strategy changed). Delete {self.directory} to start afresh, or pass "
                "another --run-dir."
            )
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        try:
            model.load_weights(path / "state.weights.h5")
            with np.load(path / "random.npz") as saved:
                states = _random_states(model)
                if len(saved.files) != len(states):
                    raise ValueError(f"it holds {len(saved.files)} random-generator states, the model has {len(states)}")
                for i, variable in enumerate(states):
                    variable.assign(saved[f"state_{i}"])
        except (OSError, ValueError) as error:
            raise ValueError(
                f"cannot resume from the backup {path}: {error}. It was written by a different model or "
                f"recipe; delete {self.directory} to start the run afresh."
            ) from error
        progress = path / "progress.json"
        self.seconds = json.loads(progress.read_text())["seconds"] if progress.exists() else 0.0
        return epochs

    def on_train_begin(self, logs=None):
        self.started = time.time()

    def elapsed(self):
        """Seconds of training in this run so far, earlier sessions included."""
        return self.seconds + time.time() - self.started

    def on_epoch_end(self, epoch, logs=None):
        self.save(epoch + 1)

    def save(self, epochs):
        target = self.directory if self.write else Path(tempfile.mkdtemp(prefix="zoo-backup-"))
        target.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target, prefix=".epoch-"))
        try:
            self.model.save_weights(tmp / "state.weights.h5")
            (tmp / "run.json").write_text(self.run)
            (tmp / "progress.json").write_text(json.dumps({"seconds": round(self.elapsed(), 1)}))
            np.savez(tmp / "random.npz", **{f"state_{i}": keras.ops.convert_to_numpy(v)
                                            for i, v in enumerate(_random_states(self.model))})
            final = target / f"epoch-{epochs:04d}"
            shutil.rmtree(final, ignore_errors=True)  # only when an epoch is saved twice
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        for old in target.glob("epoch-*"):
            if (m := _NAME.match(old.name)) and int(m.group(1)) < epochs:
                shutil.rmtree(old, ignore_errors=True)
        if not self.write:
            shutil.rmtree(target, ignore_errors=True)

    def clear(self):
        """Remove the backups (after a run has finished and its weights are written)."""
        if self.write:
            shutil.rmtree(self.directory, ignore_errors=True)
