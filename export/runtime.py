"""A small LiteRT runtime: run a `.tflite` file with named inputs and outputs.

Imports only NumPy and `ai-edge-litert` (or the old `tflite-runtime` where it still
imports), never TensorFlow, so it runs on edge devices.
"""

import json
import time
from pathlib import Path

import numpy as np


def median_ms(fn, runs=50):
    """Median wall time of `fn()` in milliseconds over `runs` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def sidecar_metadata(path, kind):
    """What a driver needs besides the graphs of the exported `path` (vocabularies, sizes): the `kind`
    entry of the sidecar `path.json` that `zoo export` wrote beside it; a one-line error when missing."""
    sidecar = Path(str(path) + ".json")
    if not sidecar.exists():
        raise FileNotFoundError(f"{sidecar} (the vocabularies and sizes written by the export beside {path}) is missing")
    return json.loads(sidecar.read_text())[kind]


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter  # optional fallback; dead on NumPy 2
        except ImportError as e:
            raise ImportError("running .tflite files needs `pip install ai-edge-litert`") from e
    return Interpreter


class Runtime:
    """A LiteRT interpreter over one signature, with inputs and outputs by name.

    `Runtime(path)(images=x)` returns a dict of NumPy arrays. The batch size follows the
    inputs: tensors are resized when it changes. Files with several signatures (a translator's
    `encode` and `step`) need `signature`.
    """

    def __init__(self, path=None, model_content=None, num_threads=None, signature=None):
        Interpreter = _interpreter_class()
        self.interpreter = Interpreter(model_path=None if path is None else str(path), model_content=model_content,
                                       num_threads=num_threads)
        signatures = sorted(self.interpreter.get_signature_list())
        if signature is None and len(signatures) != 1:
            raise ValueError(f"this .tflite file has the signatures {signatures}: name one with signature=")
        if signature is not None and signature not in signatures:
            raise ValueError(f"this .tflite file has no signature {signature!r}; it has {signatures}")
        self.signature = signature or signatures[0]
        self.runner = self.interpreter.get_signature_runner(self.signature)
        self.input_details = self.runner.get_input_details()
        self.input_names = sorted(self.input_details)
        self.output_names = sorted(self.runner.get_output_details())

    def ops(self):
        """Names of the ops in the model's graph."""
        return sorted({op["op_name"] for op in self.interpreter._get_ops_details()})

    def __call__(self, **inputs):
        missing = set(self.input_names) - set(inputs)
        unknown = set(inputs) - set(self.input_names)
        if missing or unknown:
            raise ValueError(f"inputs must be exactly {self.input_names}; missing {sorted(missing)}, unknown {sorted(unknown)}")
        feed = {}
        for name, value in inputs.items():
            detail = self.input_details[name]
            value = np.asarray(value)
            expected = tuple(int(d) for d in detail["shape_signature"])
            if value.ndim != len(expected) or any(e not in (-1, v) for e, v in zip(expected, value.shape)):
                raise ValueError(f"input {name!r} expects shape {expected} (-1 = any); got {value.shape}")
            feed[name] = value.astype(detail["dtype"], copy=False)
        return self.runner(**feed)
