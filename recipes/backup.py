"""Fault tolerance: back up the whole training state at every epoch end, atomically; resume from it.

A backup is one directory `BACKUP_DIR/epoch-NNNN/` (N finished epochs) holding
    state.weights.h5   the model's weights and the optimizer's state (step count, moments)
    random.npz         the random-generator states (dropout, sampled glimpses), which weights
                       files leave out but which an identical continuation needs
    run.json           what the run is (recipe, limit, strategy): a backup resumes that run only
    progress.json      the seconds spent training so far, over every session that resumed the run
    manifest.json      the sha256 of each file above: a backup that does not match is not loaded
It is written under a temporary name and renamed in one step, then all but the last two backups
are removed: a kill at any moment leaves a complete backup, and a corrupt newest one (checked on
resume) leaves the one before. Removing a backup removes the files its manifest lists and nothing
else: whatever else lies in the backup directory stays.

A loss that is not finite stops the run at once (`NonFiniteLoss`), before that epoch is backed up.

Keras's `BackupAndRestore` does the same job but writes its files in place (a kill while it
writes leaves a corrupt backup) and does not save random-generator states, so a resumed run
with dropout drifts from an uninterrupted one; hence this callback.
"""

import json
import math
import os
import re
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import keras
import numpy as np

from zoo.weights import sha256

_NAME = re.compile(r"^epoch-(\d{4,})$")
FILES = ("state.weights.h5", "random.npz", "run.json", "progress.json")
MANIFEST = "manifest.json"
KEEP = 2  # backups kept: the newest and the one before


class NonFiniteLoss(ValueError):
    """The training loss became NaN or infinite; the message names the epoch, the step and the last good backup."""


def _random_states(model):
    """The model's variables that `save_weights` leaves out: SeedGenerator states."""
    saved = {id(v) for v in model.weights}
    return [v for v in model.variables if id(v) not in saved]


def _check(path):
    """None if every file of the backup `path` matches its manifest, else what is wrong (one line).
    A backup written before manifests existed is taken as it is."""
    if not (path / MANIFEST).exists():
        return None
    try:
        listed = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        return f"its manifest cannot be read ({error})"
    for name, digest in listed.items():
        if not (path / name).is_file():
            return f"{name} is missing"
        if sha256(path / name) != digest:
            return f"{name} does not match its sha256"
    return None


def _remove(path):
    """Remove one backup directory: the files its manifest lists (the known names for a backup
    written before manifests), then the directory if nothing else is left in it."""
    listed = FILES
    if (path / MANIFEST).exists():
        try:
            listed = list(json.loads((path / MANIFEST).read_text()))
        except (OSError, ValueError):
            pass
    for name in [*listed, MANIFEST]:
        if "/" not in name and (path / name).is_file():
            (path / name).unlink()
    try:
        path.rmdir()
    except OSError:  # something that is not ours is in it: it stays
        pass


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

    def backups(self):
        """[(finished epochs, path)] of the backups in the directory, newest first."""
        found = [(int(m.group(1)), p) for p in self.directory.glob("epoch-*") if (m := _NAME.match(p.name))]
        return sorted(found, reverse=True)

    def latest(self):
        """(finished epochs, path) of the newest backup, or (0, None)."""
        return next(iter(self.backups()), (0, None))

    def restore(self, model):
        """Load the newest backup that matches its manifest into the compiled `model` (a corrupt one is
        reported and passed over); returns its number of finished epochs."""
        for epochs, path in self.backups():
            problem = _check(path)
            if problem is None:
                break
            print(f"not resuming from {path}: {problem}; trying the backup before it", flush=True)
        else:
            if self.backups():
                raise ValueError(f"every backup in {self.directory} is corrupt (see above); delete them to start "
                                 "the run afresh")
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
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
            raise ValueError(
                f"cannot resume from the backup {path}: {error}. It is damaged or was written by a different "
                f"model or recipe; delete {self.directory} to start the run afresh."
            ) from error
        progress = path / "progress.json"
        self.seconds = json.loads(progress.read_text())["seconds"] if progress.exists() else 0.0
        return epochs

    def on_train_begin(self, logs=None):
        self.started = time.time()
        self.failed = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(np.mean(keras.ops.convert_to_numpy(loss)))):
            self.failed = (self.epoch + 1, batch + 1)
            self.model.stop_training = True

    def check_finite(self):
        """Raise NonFiniteLoss if the loss was not finite at some step of this run."""
        if self.failed:
            epochs, path = self.latest()
            raise NonFiniteLoss(
                f"the loss became NaN or infinite at epoch {self.failed[0]}, step {self.failed[1]}; the run stopped "
                + (f"and {path} (epoch {epochs}) is the last good backup" if path else "with no backup written")
                + ": lower the learning rate, clip gradients (the recipe's clipnorm) or check the data")

    def elapsed(self):
        """Seconds of training in this run so far, earlier sessions included."""
        return self.seconds + time.time() - self.started

    def on_epoch_end(self, epoch, logs=None):
        if not self.failed:
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
            (tmp / MANIFEST).write_text(json.dumps({name: sha256(tmp / name) for name in FILES}, indent=1))
            final = target / f"epoch-{epochs:04d}"
            if final.exists():  # only when an epoch is saved twice
                _remove(final)
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # our own temporary directory, if the rename did not happen
        for _, old in self.backups()[KEEP:] if self.write else []:
            _remove(old)
        if not self.write:
            shutil.rmtree(target, ignore_errors=True)  # the throwaway directory made above

    def clear(self):
        """Remove the backups (after a run has finished and its weights are written): their files
        only, then the backup directory if nothing else is in it."""
        if self.write:
            for _, path in self.backups():
                _remove(path)
            try:
                self.directory.rmdir()
            except OSError:
                pass
