"""Evaluation: the only code that writes a model card's test metrics.

`zoo eval NAME --weights TAG --write` loads the weights the card names (sha256-checked),
runs the test split of the card's dataset, and stores the result and the command.
"""

import json

import numpy as np

import zoo
from recipes import data
from zoo import registry
from zoo import weights as store


def evaluate(model, dataset, split="test", batch_size=256, limit=None):
    """Top-1 accuracy and error (percent) of a classifier on a dataset split."""
    images, labels = data.load_arrays(dataset, split, limit=limit)
    correct = 0
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size].astype("float32") / 255.0
        probs = np.asarray(model(batch, training=False))
        correct += int(np.sum(np.argmax(probs, -1) == labels[start : start + batch_size]))
    accuracy = 100.0 * correct / len(images)
    return {"accuracy": round(accuracy, 2), "error": round(100.0 - accuracy, 2), "examples": len(images), "split": split}


def evaluate_record(name, tag="default", write=False, limit=None):
    """Evaluate the pretrained weights `name:tag` on the card's test split; optionally write the card."""
    if write and limit:
        raise ValueError("refusing to write card metrics measured on a subset (--limit)")
    rec = registry.record(name, tag)
    model = zoo.load(name, weights=rec["tag"])
    metrics = evaluate(model, rec["data"]["dataset"], rec["data"]["test_split"], limit=limit)
    if write:
        rec = {**rec, "metrics": metrics, "eval_command": f"zoo eval {name} --weights {rec['tag']} --write"}
        store.atomic_write_text(registry.record_path(name, rec["tag"]), json.dumps(rec, indent=2) + "\n")
    return metrics
