"""Training recipes: one named, fixed configuration per pretrained weight.

A recipe says which model, which weights tag it produces, on which dataset, with which
options and optimiser. `zoo train NAME` runs it; `zoo eval MODEL --weights TAG --write`
measures the card's test metrics. Recipes are sized for the 2-core CPU this project trains
on (no GPU was available); the cards state the hardware and wall time.
"""

import dataclasses
import difflib


@dataclasses.dataclass(frozen=True)
class Recipe:
    name: str
    model: str
    tag: str
    data: str
    config: dict
    epochs: int
    batch_size: int = 128
    learning_rate: float = 1e-3
    seed: int = 0
    baseline: str | None = None  # recipe whose weights this one is compared with
    description: str = ""


# ST-CNN: the transformer zooms onto a 28×28 canonical view, classified by a small CNN.
_STN = {"filters": (16, 32), "kernel_size": 5, "units": 128, "output_size": (28, 28), "transform": "affine"}
# The CNN baseline sees the full 42×42 image; `units` is chosen so that its parameter count
# matches the ST-CNN's (115,893 vs 116,098): the same budget.
_CNN = {"filters": (16, 32), "kernel_size": 5, "units": 65}

RECIPES = {
    r.name: r
    for r in [
        Recipe("stn_rts_fashion_mnist", "stn", "rts_fashion_mnist", "rts_fashion_mnist", _STN, epochs=20,
               baseline="cnn_rts_fashion_mnist",
               description="ST-CNN on RTS-distorted Fashion-MNIST (42×42, rotation ±45°, scale 0.7–1.2, random placement), full 60k train"),
        Recipe("cnn_rts_fashion_mnist", "cnn", "rts_fashion_mnist", "rts_fashion_mnist", _CNN, epochs=20,
               description="CNN baseline, same data, budget and schedule as stn_rts_fashion_mnist"),
        Recipe("stn_rts_mnist5k", "stn", "rts_mnist5k", "rts_mnist5k", _STN, epochs=60,
               baseline="cnn_rts_mnist5k",
               description="ST-CNN on RTS-distorted MNIST 5k sample (4,000 train / 1,000 test)"),
        Recipe("cnn_rts_mnist5k", "cnn", "rts_mnist5k", "rts_mnist5k", _CNN, epochs=60,
               description="CNN baseline, same data, budget and schedule as stn_rts_mnist5k"),
    ]
}


def get(name):
    """The recipe `name`, or a ValueError that lists close names."""
    if name not in RECIPES:
        close = difflib.get_close_matches(str(name), RECIPES, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"unknown recipe {name!r}.{hint} Recipes: {', '.join(sorted(RECIPES))}.")
    return RECIPES[name]
