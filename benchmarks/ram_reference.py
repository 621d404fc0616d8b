"""Our RAM beside an independent public implementation, on the same machine and the same task size.

The reference is kevinzakka/recurrent-visual-attention (PyTorch, MIT licence), the most used
public RAM. Both models are built with the configuration of our `ram:cluttered100_fashion_mnist`
weights (100×100 images, 8 glimpses, 4 scales of 12×12 patches each twice the last, glimpse and
location layers of 128, core of 256, σ = 0.1): ours with those weights (the exported file is
parity-checked first, and a fresh model's near-uniform scores make top-1 agreement a coin
toss), theirs freshly initialised (cost does not depend on the weights); timed on the same
random images:

* inference: 8 glimpses and the class scores, batch 1 and 64 (ours: Keras `predict_on_batch` on
  the backend running this script, and LiteRT fp32 of the exported file; theirs: eager PyTorch
  under `torch.no_grad()`);
* training: one step of the hybrid loss (cross-entropy + REINFORCE with the learned baseline +
  the baseline's squared error) and Adam at batch 64 (ours: `train_on_batch`; theirs: the same
  loss written on their model's outputs, backward, Adam).

`--training` measures training throughput only, on the accelerator when there is one (a GPU
machine: ours with Keras on JAX, theirs with PyTorch on CUDA; TensorFlow is not needed): examples
per second of the same training step (the hybrid loss, Adam) at each batch size in `--batches`,
freshly initialised models of the configuration above (ours: the mean step of a `fit` epoch of
`--runs` steps after one that compiles, XLA; theirs: eager PyTorch, synchronised, the median of
`--runs` steps after three warm-up steps).

The reference's code is not part of this project: give a checkout of it (the `fetch` tool, or
`git clone`) and a Python with PyTorch (it runs in its own process, so PyTorch need not be in
the project's environment):

    python benchmarks/ram_reference.py --reference DIR [--torch-python PYTHON] [--runs 20]
    KERAS_BACKEND=jax python benchmarks/ram_reference.py --reference DIR --training [--batches 64 128 1024]
"""

import argparse
import functools
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

SIDE, GLIMPSES, PATCH, SCALES, STD, CLASSES = 100, 8, 12, 4, 0.1, 10
BATCHES = (1, 64)


@functools.cache
def _runtime():
    """`export/runtime.py` loaded from its file: the PyTorch process has NumPy but not Keras, which
    importing the `export` package would pull in."""
    spec = importlib.util.spec_from_file_location("runtime", Path(__file__).resolve().parents[1] / "export" / "runtime.py")
    runtime = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runtime)
    return runtime


def median_ms(fn, runs):
    return _runtime().median_ms(fn, runs)


def images(batch, seed=0):
    return np.random.default_rng(seed).random((batch, SIDE, SIDE, 1), dtype=np.float32)


def _reference_model(reference, device="cpu"):
    """The reference RAM (on `device`) and its episode function x → (log-probabilities, log π, baselines)."""
    import torch

    sys.path.insert(0, reference)
    from model import RecurrentAttention  # the reference's module, from its checkout

    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count())
    model = RecurrentAttention(g=PATCH, k=SCALES, s=2, c=1, h_g=128, h_l=128, std=STD, hidden_size=256,
                               num_classes=CLASSES).to(device)

    def episode(x):
        h = torch.zeros(x.shape[0], 256, device=device)
        location = torch.empty(x.shape[0], 2, device=device).uniform_(-1, 1)
        log_pis, baselines = [], []
        for t in range(GLIMPSES):
            out = model(x, location, h, last=t == GLIMPSES - 1)
            h, location, b = out[0], out[1], out[2]
            log_pis.append(out[-1])
            baselines.append(b.reshape(-1))
        return out[3], torch.stack(log_pis, 1), torch.stack(baselines, 1)

    return model, episode


def _reference_step(model, episode, x, y):
    """One training step of the reference: the hybrid loss on its outputs, backward, Adam."""
    import torch

    optimizer = torch.optim.Adam(model.parameters(), 1e-3)

    def step():
        log_probas, log_pi, baselines = episode(x)
        reward = (log_probas.argmax(1) == y).float()[:, None].expand_as(baselines)
        loss = (torch.nn.functional.nll_loss(log_probas, y) + torch.nn.functional.mse_loss(baselines, reward)
                - torch.mean(torch.sum(log_pi * (reward - baselines.detach()), 1)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def reference_worker(reference, runs):
    """Runs in the PyTorch process: time the reference model, print a JSON line."""
    import torch

    model, episode = _reference_model(reference)
    result = {"parameters": sum(p.numel() for p in model.parameters()), "torch": torch.__version__}
    model.eval()
    with torch.no_grad():
        for b in BATCHES:
            x = torch.from_numpy(images(b)).permute(0, 3, 1, 2).contiguous()  # theirs reads (B, C, H, W)
            result[f"infer_{b}"] = median_ms(lambda: episode(x), runs if b == 1 else max(3, runs // 4))
    model.train()
    x = torch.from_numpy(images(64)).permute(0, 3, 1, 2).contiguous()
    y = torch.from_numpy(np.random.default_rng(1).integers(0, CLASSES, 64))
    result["train_64"] = median_ms(_reference_step(model, episode, x, y), max(3, runs // 4))
    print(json.dumps(result))


def reference_training_worker(reference, runs, batches):
    """Runs in the PyTorch process: the reference's training step on CUDA (if any), per batch size."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model, episode = _reference_model(reference, device)
    model.train()
    result = {"parameters": sum(p.numel() for p in model.parameters()), "torch": torch.__version__,
              "device": torch.cuda.get_device_name() if device == "cuda" else "cpu"}
    for b in batches:
        x = torch.from_numpy(images(b)).permute(0, 3, 1, 2).contiguous().to(device)
        y = torch.from_numpy(np.random.default_rng(1).integers(0, CLASSES, b)).to(device)
        step = _reference_step(model, episode, x, y)

        def synchronised():
            step()
            if device == "cuda":
                torch.cuda.synchronize()

        for _ in range(3):
            synchronised()
        result[f"train_{b}"] = median_ms(synchronised, runs)
    print(json.dumps(result))


def ours_training(runs, batches):
    """Our RAM's training step, ms per step at each batch size: one `fit` epoch of `runs` steps on
    the same batch repeated, timed after an identical epoch that compiles (XLA). Not
    `train_on_batch`: on JAX each of its calls costs ~0.3 s of Keras overhead, whatever the model."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import time

    import keras

    import zoo
    from recipes.train import hardware

    model = zoo.load("ram", weights=None, image_shape=(SIDE, SIDE, 1), num_classes=CLASSES, glimpses=GLIMPSES,
                     glimpse_size=PATCH, scales=SCALES, std=STD)
    model.compile(keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", jit_compile=True)
    result = {"parameters": model.count_params(), "backend": keras.backend.backend(), "hardware": hardware()}
    for b in batches:
        x, y = np.tile(images(b), (runs, 1, 1, 1)), np.tile(np.random.default_rng(1).integers(0, CLASSES, b), runs)
        model.fit(x, y, batch_size=b, epochs=1, shuffle=False, verbose=0)  # compiles
        start = time.perf_counter()
        model.fit(x, y, batch_size=b, epochs=1, shuffle=False, verbose=0)  # returns when the last step is done
        result[f"train_{b}"] = (time.perf_counter() - start) / runs * 1e3
    return result


def training_table(theirs, mine, batches):
    print(f"{mine['hardware']}. Ours: Keras {mine['backend']}, XLA; reference: PyTorch {theirs['torch']} (eager) on "
          f"{theirs['device']}. Training examples per second; ratio = ours / reference.\n")
    print("| batch | reference (PyTorch) | ours (Keras) | ratio |")
    print("|---|---|---|---|")
    for b in batches:
        t, m = b / theirs[f"train_{b}"] * 1e3, b / mine[f"train_{b}"] * 1e3
        print(f"| {b} | {t:,.0f} | {m:,.0f} | {m / t:.2f}× |")
    print(f"\nparameters: reference {theirs['parameters']:,}, ours {mine['parameters']:,}")


def ours(runs):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    import zoo
    from export import to_tflite
    from export.runtime import Runtime

    model = zoo.load("ram", weights="cluttered100_fashion_mnist")  # trained: a fresh model's near-uniform
    config = model.get_config()                                      # scores make top-1 parity a coin toss
    assert (config["glimpses"], config["glimpse_size"], config["scales"], config["std"]) == (GLIMPSES, PATCH, SCALES, STD)
    model.compile(keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    result = {"parameters": model.count_params(), "backend": keras.backend.backend()}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ram.tflite")
        to_tflite(model, path, check_inputs=images(8, seed=3))
        runtime = Runtime(path)
        for b in BATCHES:
            x, repeats = images(b), runs if b == 1 else max(3, runs // 4)
            result[f"infer_{b}"] = median_ms(lambda: model.predict_on_batch(x), repeats)
            result[f"lite_{b}"] = median_ms(lambda: runtime(images=x), repeats)
    x, y = images(64), np.random.default_rng(1).integers(0, CLASSES, 64)
    result["train_64"] = median_ms(lambda: model.train_on_batch(x, y), max(3, runs // 4))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", required=True, help="checkout of kevinzakka/recurrent-visual-attention")
    parser.add_argument("--torch-python", default=sys.executable, help="a Python that has PyTorch")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--training", action="store_true", help="training throughput only, on the accelerator")
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 128, 1024], help="with --training")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if args.training:
            return reference_training_worker(args.reference, args.runs, args.batches)
        return reference_worker(args.reference, args.runs)
    if not os.path.exists(os.path.join(args.reference, "model.py")):
        raise SystemExit(f"{args.reference} holds no model.py: give a checkout of kevinzakka/recurrent-visual-attention")
    if args.training:
        done = subprocess.run([args.torch_python, __file__, "--worker", "--training", "--reference", args.reference,
                               "--runs", str(args.runs), "--batches", *map(str, args.batches)],
                              capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"the reference run failed:\n{done.stderr[-2000:]}")
        theirs = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"reference: {json.dumps(theirs)}", flush=True)  # before ours compiles, in case time runs out
        return training_table(theirs, ours_training(args.runs, args.batches), args.batches)
    done = subprocess.run([args.torch_python, __file__, "--worker", "--reference", args.reference, "--runs", str(args.runs)],
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"the reference run failed:\n{done.stderr[-2000:]}")
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    mine = ours(args.runs)
    print(f"{os.cpu_count()} CPU cores; ours: Keras on {mine['backend']} and LiteRT; reference: PyTorch "
          f"{theirs['torch']} (eager). Median ms per call; ratio = reference time / ours (> 1: ours is faster).\n")
    print("| | parameters | infer batch 1 | infer batch 64 | train step batch 64 |")
    print("|---|---|---|---|---|")
    print(f"| reference (PyTorch) | {theirs['parameters']:,} | {theirs['infer_1']:.2f} | {theirs['infer_64']:.2f} | "
          f"{theirs['train_64']:.1f} |")
    print(f"| ours (Keras) | {mine['parameters']:,} | {mine['infer_1']:.2f} | {mine['infer_64']:.2f} | {mine['train_64']:.1f} |")
    print(f"| ours (LiteRT fp32) | | {mine['lite_1']:.2f} | {mine['lite_64']:.2f} | |")
    print(f"| ratio, Keras | | {theirs['infer_1'] / mine['infer_1']:.2f}× | {theirs['infer_64'] / mine['infer_64']:.2f}× | "
          f"{theirs['train_64'] / mine['train_64']:.2f}× |")
    print(f"| ratio, LiteRT | | {theirs['infer_1'] / mine['lite_1']:.2f}× | {theirs['infer_64'] / mine['lite_64']:.2f}× | |")


if __name__ == "__main__":
    main()
