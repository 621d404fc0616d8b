"""Start-up time of the `zoo` command: wall-clock seconds, median of 5 runs, each a fresh process of
the console script in the repository's venv (`.venv/bin/zoo`), as a Markdown table. A first run of
each command is not counted (it checks the exit status and warms the file cache).

`zoo info stm` is a typo on purpose (the unknown-name error, expected to exit 1); any other command
that exits non-zero is not timed and its row says so. `zoo predict` runs a `.tflite` that `zoo export
stn` writes to a temporary folder first (with its .json sidecar), on one RTS Fashion-MNIST test PNG.
The first row is the floor: a Python that does nothing.

    python benchmarks/cli_speed.py [--runs 5]
"""

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BIN = Path(__file__).resolve().parents[1] / ".venv" / "bin"


def commands(tmp):
    """(command line as shown, argv, exit status expected) per row."""
    zoo = str(BIN / "zoo")
    return [
        ("`python -c pass` (the floor)", [str(BIN / "python"), "-c", "pass"], 0),
        ("`zoo list`", [zoo, "list"], 0),
        ("`zoo list 'ram*'`", [zoo, "list", "ram*"], 0),
        ("`zoo info stn`", [zoo, "info", "stn"], 0),
        ("`zoo info stn --weights rts_mnist5k`", [zoo, "info", "stn", "--weights", "rts_mnist5k"], 0),
        ("`zoo info stm` (a typo)", [zoo, "info", "stm"], 1),
        ("`zoo data`", [zoo, "data"], 0),
        ("`zoo train`", [zoo, "train"], 0),
        ("`zoo predict stn.tflite item.png`", [zoo, "predict", f"{tmp}/stn.tflite", f"{tmp}/item.png"], 0),
    ]


def prepare(tmp):
    """`zoo export stn` into `tmp` and one test image as item.png beside it."""
    from PIL import Image

    from recipes import data

    subprocess.run([BIN / "zoo", "export", "stn", "--out", f"{tmp}/stn.tflite", "--eval-limit", "4"], check=True,
                   capture_output=True, cwd=tmp)
    images, _ = data.load_arrays("rts_fashion_mnist", "test", limit=1)
    Image.fromarray(images[0, ..., 0]).save(f"{tmp}/item.png")


def timed(argv, cwd):
    """(seconds, CompletedProcess) of one fresh process."""
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, cwd=cwd)
    return time.perf_counter() - start, result


def first_line(result):
    """The first line the command printed (stdout, else stderr), cut to 60 characters."""
    lines = (result.stdout or result.stderr).strip().splitlines() or [""]
    line = lines[0].strip().replace("|", "\\|")
    return line if len(line) <= 60 else line[:59] + "…"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per command (the median is shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        prepare(tmp)
        print(f"{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f} at the start\n")
        print(f"| command | median s ({args.runs} runs) | min s | max s | first line printed |")
        print("|---|---:|---:|---:|---|")
        for shown, argv, expected in commands(tmp):
            _, result = timed(argv, tmp)  # a first run, not counted: checks the exit status, warms the file cache
            if result.returncode != expected:
                print(f"| {shown} | not timed: exits {result.returncode} | | | {first_line(result)} |")
                continue
            times = [timed(argv, tmp)[0] for _ in range(args.runs)]
            print(f"| {shown} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} "
                  f"| {first_line(result)} |")


if __name__ == "__main__":
    main()
