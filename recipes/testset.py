"""A model card's test split as the command line, export checks and benchmarks use it: the first
test examples as the model takes them (with what they should give), calibration inputs from the
training split, and the task's test metrics of anything called like the model (the Keras model,
a reloaded SavedModel, a LiteRT driver). What differs between tasks is looked up by task name.

    test = TestSet(registry.record("stn", "default"), limit=1000)
    images, labels = test.examples(16)
    test.metrics(model)["accuracy"]
"""

from recipes import data
from recipes import evaluate as evaluation
from zoo import decoding, registry


def test_arrays(rec, limit=None):
    """(inputs as the model takes them: images float32 in [0, 1], windows, bit vectors; labels) of
    the card's test split."""
    inputs, labels = data.load_arrays(rec["data"]["dataset"], rec["data"]["test_split"], limit=limit)
    return data.for_model(inputs), labels


def test_scenes(rec, limit=None):
    """A captioner's test scenes: (images float32 in [0, 1], their reference captions)."""
    drawn = data.load_scenes(rec["data"]["dataset"], rec["data"]["test_split"], limit=limit)
    return data.for_model(drawn.images), drawn.references


def test_texts(rec, limit=None):
    """A translator's test texts: (sources, target texts)."""
    return data.load_texts(rec["data"]["dataset"], rec["data"]["test_split"], limit=limit)


def questions(rec, split, limit=None):
    """A question answerer's questions of a split: ({"images": float32 in [0, 1], one per question,
    "questions": word ids int32}, answer ids)."""
    drawn = data.load_questions(rec["data"]["dataset"], split, limit=limit)
    return {name: data.for_model(values) for name, values in drawn.inputs().items()}, drawn.answers


def test_strokes(rec, limit=None):
    """A stroke writer's test lines: ({"strokes": float32 (N, T, 3) zero-padded to the longest,
    "text": int32 ids (N, max_text_len)}, their texts)."""
    drawn = data.load_strokes(rec["data"]["dataset"], rec["data"]["test_split"], limit=limit)
    return drawn.inputs(), drawn.texts


def noise_draws(rec, n, seed):
    """A generator's inputs: {"noise": n standard-normal draws (n, T, latent_dim) of `seed`}."""
    return {"noise": decoding.standard_noise(n, rec["config"]["steps"], rec["config"]["latent_dim"], seed=seed)}


# Per task: the first test examples and what they should give (metrics: `recipes.evaluate.TEST_METRICS`).
EXAMPLES = {
    "classifier": test_arrays,
    "language_model": test_arrays,
    "translator": test_texts,
    "captioner": test_scenes,
    "generator": lambda rec, limit=None: (noise_draws(rec, limit, seed=0), None),  # what its exports are checked on
    "question_answerer": lambda rec, limit=None: questions(rec, rec["data"]["test_split"], limit),
    "stroke_writer": test_strokes,
}
# Per task whose inputs are not one array of `data.load_arrays`: the first training inputs; a
# generator's, n noise draws of seed 1 (its checks draw seed 0).
CALIBRATION = {
    "question_answerer": lambda rec, n: questions(rec, "train", n)[0],
    "generator": lambda rec, n: noise_draws(rec, n, seed=1),
}


class TestSet:
    """The test split of the card `rec`'s dataset, its first `limit` examples (None: all of it)."""

    __test__ = False  # not a pytest test class

    def __init__(self, rec, limit=None):
        self.rec, self.limit, self.task = rec, limit, registry.task(rec["model"])
        if self.task not in EXAMPLES:
            raise ValueError(f"expected a task with test examples ({', '.join(EXAMPLES)}); got {self.task!r}")

    def examples(self, n=None):
        """(the first `n` test inputs as the model takes them, their labels or references);
        n=None: the first `limit`."""
        return EXAMPLES[self.task](self.rec, self.limit if n is None else n)

    def calibration(self, n):
        """The first `n` inputs of the training split, as the model takes them (int8 calibration,
        never on the test split); a generator's noise draws."""
        if self.task in CALIBRATION:
            return CALIBRATION[self.task](self.rec, n)
        return data.for_model(data.load_arrays(self.rec["data"]["dataset"], "train", limit=n)[0])

    def metrics(self, model):
        """The task's test metrics of `model` (anything called like the model) on the test split."""
        return evaluation.TEST_METRICS[self.task](model, self.rec["data"]["dataset"], self.rec["data"]["test_split"], self.limit)
