"""What several commands share: TensorFlow's start-up kept quiet, a plain-text table, a card's
headline metric."""

import contextlib
import importlib.abc
import importlib.util
import os
import shutil
import sys


@contextlib.contextmanager
def _stderr_to_devnull():
    """File descriptor 2 (C++ code writes there too) pointed at /dev/null, then back."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _QuietLoader:
    """TensorFlow's own loader, run with stderr at /dev/null."""

    def __init__(self, loader):
        self.loader = loader

    def __getattr__(self, name):
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        with _stderr_to_devnull():
            self.loader.exec_module(module)


class _QuietTensorFlow(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` as the other finders do, with `_QuietLoader` around its loader."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once, and not for the lookup below
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def quiet_tensorflow():
    """Keep TensorFlow's C++ start-up lines (absl's "before InitializeLog", oneDNN, CUDA stubs) off
    the terminal whenever a command imports it: TensorFlow 2.21 prints them whatever
    TF_CPP_MIN_LOG_LEVEL says (default here: 2), so stderr points at /dev/null while it loads.
    Imports nothing itself; TF_CPP_MIN_LOG_LEVEL=0 shows the lines."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules or os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0":
        return
    if not any(isinstance(finder, _QuietTensorFlow) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlow())


def table(rows, headers, width=None):
    """Rows under headers, columns left-aligned; each line cut to `width` characters (with …)."""
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip()
             for row in [headers, ["-" * w for w in widths], *rows]]
    return "\n".join(line if width is None or len(line) <= width else line[: width - 1] + "…" for line in lines)


def terminal_width():
    """The terminal's columns (120 when the output is not a terminal)."""
    return shutil.get_terminal_size((120, 24)).columns


def metric(rec):
    """The headline test metric of a card, as its task words it ("not evaluated" before `zoo eval`),
    or "no pretrained weights yet" without a card."""
    from zoo import registry, tasks

    return tasks.get(registry.task(rec["model"])).card_headline(rec) if rec else "no pretrained weights yet"
