"""The LiteRT question answerer: an exported `vqa` file (images and question word ids in; answer
probabilities and each hop's attention map out) asked questions as text, with NumPy and LiteRT
only. The vocabularies come from the sidecar `FILE.tflite.json` (key "question_answerer").

    answerer = Answerer("vqa.tflite")
    words, probabilities, maps = answerer.answer(images, ["what is to the left of the bag?"])
"""

import numpy as np

from export.runtime import Runtime, sidecar_metadata
from zoo.vocabulary import encode_questions


def metadata(model):
    """What the answerer needs besides the graph: the question words, the answers, the input sizes."""
    return {"tokens": model.tokens, "answers": model.answers, "max_question_len": model.max_question_len,
            "image_shape": list(model.image_shape), "hops": model.hops}


class Answerer:
    """An exported question answerer, called like the Keras model (inputs dict → probabilities and
    attention maps) or asked in words (`answer`)."""

    def __init__(self, path, meta=None, num_threads=None):
        """`meta`: the vocabularies and sizes (`metadata(model)`); default: read from the sidecar."""
        self.meta = sidecar_metadata(path, "question_answerer") if meta is None else meta
        self.runtime = Runtime(path, num_threads=num_threads)
        self.image_shape = tuple(self.meta["image_shape"])

    def __call__(self, inputs, training=False, return_attention=False):
        out = self.runtime(images=inputs["images"], questions=inputs["questions"])
        probabilities = out["probabilities"]
        if not return_attention:
            return probabilities
        grid = np.zeros((len(probabilities), 0, 1, 1), np.float32)
        return probabilities, out.get("region_attention", grid)

    def answer(self, images, questions):
        """(answer words, their probabilities (Q,), each hop's map (Q, hops, gh, gw)) for `questions`
        (strings) about `images` (float32 (Q, H, W, C) in [0, 1], one per question)."""
        ids = encode_questions(questions, self.meta["tokens"], self.meta["max_question_len"], "this answerer")
        probabilities, maps = self({"images": np.asarray(images, np.float32), "questions": ids}, return_attention=True)
        best = probabilities.argmax(-1)
        return [self.meta["answers"][i] for i in best], probabilities[np.arange(len(best)), best], maps
