"""Stacked Attention Networks (Yang et al. 2016): answer a question about an image by letting the
question attend the image's grid of features, once per hop.

Image: a small CNN (one 3×3 conv + 2×2 max-pool per entry of `filters`) gives a gh×gw grid of
features f_i; each gets its cell's centre (y, x) ∈ [−1, 1]² appended, so an attended vector carries
where it was read from, and v_i = tanh(W_I f_i + b_I) (B, N = gh·gw, d).
Question: word embeddings (id 0 is padding, masked) read by an LSTM; its state after the last word
is v_Q (B, d).
Hops (`layers.StackedAttention`): u⁰ = v_Q; h_A = tanh(W_I,A v ⊕ (W_Q,A u^{k−1} + b_A)),
p^k = softmax(W_P h_A), u^k = Σ_i p^k_i v_i + u^{k−1}. With hops=0 (no attention) the mean image
vector stands for the attended one, u = (1/N) Σ_i v_i + v_Q; with use_image=False (the blind,
question-only baseline) u = v_Q.
Answer: p(a) = softmax(W_u u + b_u) over the answer words (dropout on u while training).
With answer_units > 0, p(a) = softmax(W_u relu(W_h u + b_h) + b_u): one hidden layer, which
"is there a coat?" needs (the question's class matched with the attended item's: not linear in u).
Attention supervision (not in the paper; the attention-correctness loss of Liu, Mao, Sha, Yuille
2017, "Attention Correctness in Neural Image Captioning"): with attention_supervision = λ > 0 and
the items' boxes among the inputs, the loss adds λ · Σ_k mean_B(−Σ_i t^k_i log p^k_i), t^k uniform
over the grid cells whose centre lies in the item hop k should find (`attention_targets`: the named
item at hop 1 of two or more, the answering item at the last hop; no term where there is none).

`call({"images": float32 (B, H, W, C) in [0, 1], "questions": int ids (B, max_question_len)})`
(or the tuple (images, questions); to train the attention, also "boxes": int (B, 2, 4)) returns
p(a) (B, A), and with return_attention=True every hop's map (B, hops, gh, gw); unroll=False (the
export) reads the question in one loop over its words. `answer(images, questions)` reads question
strings.
"""


import keras
import numpy as np
from keras import layers, ops

from layers.stacked_attention import StackedAttention
from zoo.models.base import cell_centres, cells_in_boxes, check_ids, check_images
from zoo.registry import register_model
from zoo.vocabulary import PAD, encode_questions


@register_model(
    "vqa",
    task="question_answerer",
    summary="Stacked Attention Networks: answers a question about an image through question-guided attention "
    "hops over its grid of features, with each hop's attention map",
    paper="Yang, He, Gao, Deng, Smola. Stacked Attention Networks for Image Question Answering. CVPR 2016",
    default_weights="scenes_mnist5k_supervised_mlp_60e",
)
@keras.saving.register_keras_serializable(package="attention_zoo")
class StackedAttentionNetwork(keras.Model):
    """Image CNN + question LSTM → `hops` stacked attention layers → p(answer) (B, A).

    Args:
        tokens: the question words; tokens[0] is "<pad>" (id 0, padding).
        answers: the answer words (or phrases), one class each.
        image_shape: (H, W, C) of the input images, values in [0, 1].
        max_question_len: the length of the id sequences the model reads (padded with 0).
        hops: K, the attention layers stacked; 0 is the no-attention baseline (the mean image vector).
        use_image: False is the blind baseline, answering from the question alone (needs hops=0).
        filters: the CNN, one conv + max-pool per entry (64 px and three entries: an 8×8 grid).
        embedding_dim, units, attention_units: the word embedding width, d (the LSTM's and the image
            vectors' width), k (the width of h_A).
        dropout: the dropout rate on u before the answer layer.
        answer_units: the width of a ReLU layer W_h before the answer softmax; 0 (default) is the
            paper's linear answer layer.
        attention_supervision: λ, the weight of the attention loss on inputs that carry "boxes"
            (0, the default, is the paper's model: the maps learn from the answers alone).
    """

    input_dtypes = {"questions": "int32"}  # the exported signature's dtypes (images: float32)
    # Full int8 (measured on scenes_fashion_mnist_mlp_60e's 5,000 test questions, Keras 90.14%): the
    # export reads the question in a loop (`question_loop`), whose one LSTM step holds its recurrent
    # product in int8 at every batch size (unrolled, XNNPACK failed to prepare it at batch 32); the gates
    # (LOGISTIC, TANH, SPLIT) and the attention hops' softmax stay float, one scale per weight tensor
    # (per channel: 0.38 of fp32, its scales and int64 zero points 16 KiB). Softmax float: 89.76% at 0.33;
    # int8 too: 89.62%. `python benchmarks/int8_size.py --models vqa`.
    int8_float_ops = ("LOGISTIC", "TANH", "SPLIT")
    int8_float_nodes = (r"/attention_\d+/Softmax",)
    int8_per_channel = False

    def __init__(
        self,
        tokens=(PAD,),
        answers=(),
        image_shape=(64, 64, 1),
        max_question_len=10,
        hops=2,
        use_image=True,
        filters=(16, 32, 64),
        embedding_dim=32,
        units=64,
        attention_units=32,
        dropout=0.2,
        answer_units=0,
        attention_supervision=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.tokens, self.answers = [str(t) for t in tokens], [str(a) for a in answers]
        if not self.tokens or self.tokens[0] != PAD or len(set(self.tokens)) != len(self.tokens):
            raise ValueError(f"tokens must be unique question words with tokens[0] == {PAD!r}; got {self.tokens[:5]}…")
        if len(self.answers) < 2 or len(set(self.answers)) != len(self.answers):
            raise ValueError(f"answers must be at least 2 distinct answer words; got {self.answers}")
        self.image_shape = tuple(int(d) for d in image_shape)
        self.max_question_len, self.hops, self.use_image = int(max_question_len), int(hops), bool(use_image)
        if self.hops < 0 or (self.hops and not self.use_image):
            raise ValueError(f"hops must be 0 or more, and 0 without the image (use_image=False); got hops={hops}, "
                             f"use_image={use_image}")
        self.filters = tuple(int(f) for f in filters)
        self.embedding_dim, self.units, self.attention_units = int(embedding_dim), int(units), int(attention_units)
        self.dropout_rate = float(dropout)
        self.answer_units = int(answer_units)
        if self.answer_units < 0:
            raise ValueError(f"answer_units must be 0 (the paper's linear answer layer) or more; got {answer_units}")
        self.attention_supervision = float(attention_supervision)
        if self.attention_supervision < 0 or (self.attention_supervision and not self.hops):
            raise ValueError(f"attention_supervision must be 0, or more with hops ≥ 1; got {attention_supervision} "
                             f"with hops={hops}")
        self.grid = tuple(d // 2 ** len(self.filters) for d in self.image_shape[:2])  # after the max-pools
        if self.use_image:
            self.encoder = self._encoder()
            self.W_I = layers.Dense(self.units, name="W_I")  # its kernel read in two parts, tanh (`image_vectors`)
            self.W_I.build((None, self.filters[-1] + 2))
        self.embedding = layers.Embedding(len(self.tokens), self.embedding_dim, name="embedding")
        self.lstm = layers.LSTM(self.units, unroll=True, name="question_lstm")  # the export: `question_loop`
        self.attention = StackedAttention(self.attention_units, self.hops, name="attention") if self.hops else None
        self.dropout = layers.Dropout(self.dropout_rate)
        self.W_h = layers.Dense(self.answer_units, activation="relu", name="W_h") if self.answer_units else None
        self.W_u = layers.Dense(len(self.answers), name="W_u")

    def _encoder(self):
        inputs = keras.Input(self.image_shape)
        x = inputs
        for f in self.filters:
            x = layers.MaxPooling2D()(layers.Conv2D(f, 3, padding="same", activation="relu")(x))
        return keras.Model(inputs, x, name="encoder")

    def build_for_inputs(self):
        self({"images": ops.zeros((1, *self.image_shape)), "questions": ops.ones((1, self.max_question_len), "int32")})

    def get_build_config(self):
        return {"images": [None, *self.image_shape], "questions": [None, self.max_question_len]}

    def build_from_config(self, config):
        """Loading from a .keras file: the variables come from one call on a dummy input."""
        self.build_for_inputs()

    def image_vectors(self, images):
        """v (B, N, d): tanh(W_I [f_i; c_i] + b_I) of each grid cell's features f_i and centre c_i = (y, x),
        computed as W_I^f f_i + W_I^c c_i + b_I: two products, so that an int8 file rounds the centres at
        their own scale (a concatenation shares one scale, the features')."""
        features = self.encoder(images)
        depth, cells = features.shape[-1], self.grid[0] * self.grid[1]
        features = ops.reshape(features, (-1, cells, depth))
        where = ops.broadcast_to(ops.convert_to_tensor(cell_centres(*self.grid))[None], (ops.shape(features)[0], cells, 2))
        kernel = self.W_I.kernel
        return ops.tanh(ops.matmul(features, kernel[:depth]) + ops.matmul(where, kernel[depth:]) + self.W_I.bias)

    def question_vector(self, questions, unroll=True):
        """v_Q (B, d): the LSTM's state after the last word (padding, id 0, masked); unroll=False
        reads the words in `question_loop`."""
        if not unroll:
            return self.question_loop(questions)
        return self.lstm(self.embedding(questions), mask=ops.not_equal(questions, 0))

    def question_loop(self, questions):
        """The LSTM's v_Q, the same numbers, as one `ops.fori_loop` over the words: step t reads word
        t's id from the model's input (not from tensors computed before the loop: the form LiteRT's
        XNNPACK answers the same on every call, see `GridLSTMPatches.raster_loop`), embeds it and runs
        the LSTM cell; a padding word (id 0) keeps the state."""
        batch = ops.shape(questions)[0]

        def step(t, state):
            ids = ops.reshape(ops.slice(questions, (0, t), (batch, 1)), (-1,))
            _, (h, c) = self.lstm.cell(self.embedding(ids), state)
            word = ops.not_equal(ids, 0)[:, None]
            return [ops.where(word, h, state[0]), ops.where(word, c, state[1])]

        zero = ops.zeros((batch, self.units))
        return ops.fori_loop(0, self.max_question_len, step, [zero, zero])[0]

    def attention_targets(self, boxes):
        """t (B, 2, N): for the named item and the answering item (boxes (B, 2, 4) as (y0, x0, y1, x1)
        in pixels, end exclusive, y0 < 0 for none), uniform over the grid cells whose centre lies in
        the box (`cells_in_boxes`: where the grounding metric counts a peak as on the item); 0 where
        no centre does."""
        cells = cells_in_boxes(boxes, self.image_shape[:2], self.grid)
        return cells / ops.maximum(ops.sum(cells, axis=-1, keepdims=True), 1.0)

    def attention_loss(self, p, boxes):
        """λ · Σ_k mean_B(−Σ_i t^k_i log p^k_i) of the maps p (B, hops, N): hop 1 (of two or more)
        on the named item, the last hop on the answering item."""
        targets = self.attention_targets(boxes)
        log_p = ops.log(ops.maximum(p, 1e-7))
        loss = -ops.mean(ops.sum(targets[:, 1] * log_p[:, -1], axis=-1))
        if self.hops > 1:
            loss -= ops.mean(ops.sum(targets[:, 0] * log_p[:, 0], axis=-1))
        return self.attention_supervision * loss

    def call(self, inputs, training=None, return_attention=False, unroll=True):
        images, questions, boxes = self.check_inputs(inputs)
        u = self.question_vector(questions, unroll=unroll)
        attention = ops.zeros((ops.shape(u)[0], 0, *self.grid), u.dtype)
        if self.use_image:
            v = self.image_vectors(images)
            if self.hops:
                u, p = self.attention(u, v)
                attention = ops.reshape(p, (-1, self.hops, *self.grid))
                if boxes is not None and self.attention_supervision:
                    self.add_loss(self.attention_loss(p, boxes))
            else:
                u = ops.mean(v, axis=1) + u
        h = self.dropout(u, training=training)
        probabilities = ops.softmax(self.W_u(self.W_h(h) if self.W_h else h), axis=-1)
        return (probabilities, attention) if return_attention else probabilities

    def check_inputs(self, inputs):
        """(images as float32, questions as int32, the items' boxes or None), or a ValueError naming
        what was expected."""
        boxes = None
        if isinstance(inputs, dict) and set(inputs) - {"boxes"} == {"images", "questions"}:
            images, questions, boxes = inputs["images"], inputs["questions"], inputs.get("boxes")
        elif isinstance(inputs, (tuple, list)) and len(inputs) == 2:
            images, questions = inputs
        else:
            got = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise ValueError(f'model {self.name!r} takes {{"images": floats, "questions": word ids}} (and "boxes" to '
                             f"train the attention) or the tuple (images, questions); got {got}. To ask questions as "
                             "text, use model.answer(images, questions).")
        if boxes is not None and tuple(boxes.shape[1:]) != (2, 4):
            raise ValueError(f"model {self.name!r} takes boxes of shape (batch, 2, 4): the named and the answering "
                             f"item's (y0, x0, y1, x1); got shape {tuple(boxes.shape)}")
        length = self.max_question_len
        questions = check_ids(self.name, questions, "question word ids", f"(batch, {length})", lambda n: n == length,
                              len(self.tokens), " Ask in words with model.answer(images, questions).")
        return check_images(self.name, images, self.image_shape), questions, boxes

    def question_ids(self, questions):
        """Word ids (Q, max_question_len) of a list of question strings (`vocabulary.encode_questions`),
        or the ids given."""
        ids = np.asarray(questions)
        if isinstance(questions, str) or ids.dtype.kind in "USO":
            return encode_questions(questions, self.tokens, self.max_question_len, f"model {self.name!r}")
        return ids

    def decode(self, ids):
        """The question text of one id sequence (padding dropped)."""
        return " ".join(self.tokens[i] for i in np.asarray(ids).tolist() if i != 0)

    def answer(self, images, questions, return_attention=True, batch_size=256):
        """Answer `questions` (strings, or word ids (Q, max_question_len)) about `images` (float
        (Q, H, W, C) in [0, 1], one per question): (answer words, their probabilities (Q,),
        and with return_attention every hop's map (Q, hops, gh, gw))."""
        ids = self.question_ids(questions)
        if len(images) != len(ids):
            raise ValueError(f"model {self.name!r} answers one question per image; got {len(images)} images and "
                             f"{len(ids)} questions")
        probabilities, maps = [], []
        for start in range(0, len(ids), batch_size):
            p, a = self({"images": ops.convert_to_tensor(images[start : start + batch_size]),
                         "questions": ops.convert_to_tensor(ids[start : start + batch_size])}, return_attention=True)
            probabilities.append(ops.convert_to_numpy(p))
            maps.append(ops.convert_to_numpy(a))
        probabilities, maps = np.concatenate(probabilities), np.concatenate(maps)
        best = probabilities.argmax(-1)
        words = [self.answers[i] for i in best]
        confidence = probabilities[np.arange(len(best)), best]
        return (words, confidence, maps) if return_attention else (words, confidence)

    def picture(self, inputs, answers, path):
        """Write a PNG: each image under its question, the model's answer (and the true one, where
        `answers` gives it: answer ids or words, or None), and each hop's attention map over it.
        `inputs`: {"images", "questions" (strings or word ids)}, as `test.examples()` gives them."""
        from zoo.pictures import question_picture

        images, ids = np.asarray(inputs["images"]), self.question_ids(inputs["questions"])
        words, confidence, maps = self.answer(images, ids)
        truth = [None] * len(ids) if answers is None else [a if a is None or isinstance(a, str) else self.answers[a]
                                                           for a in answers]
        said = [w if t in (None, w) else f"{w} (truth: {t})" for w, t in zip(words, truth)]
        kind = f"{self.hops} hop{'s' * (self.hops > 1)}" if self.hops else ("no attention" if self.use_image else "blind, question only")
        return question_picture(images, [self.decode(q) for q in ids], said, confidence, maps, path,
                                title=f"Stacked Attention Network ({kind}): p_I at each hop")

    def serving_signature(self):
        """The exported answerer: images (B, H, W, C) float32 and questions (B, max_question_len) int32 →
        probabilities (B, A) and, with hops, region_attention (B, hops, gh, gw) (named to sort after
        probabilities, the output whose top-1 export parity compares)."""

        def serve(images, questions):
            probabilities, attention = self({"images": images, "questions": questions}, training=False,
                                            return_attention=True, unroll=False)
            return {"probabilities": probabilities, **({"region_attention": attention} if self.hops else {})}

        return {"images": (None, *self.image_shape), "questions": (None, self.max_question_len)}, serve

    def get_config(self):
        return {
            **super().get_config(),
            "tokens": self.tokens,
            "answers": self.answers,
            "image_shape": self.image_shape,
            "max_question_len": self.max_question_len,
            "hops": self.hops,
            "use_image": self.use_image,
            "filters": self.filters,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "attention_units": self.attention_units,
            "dropout": self.dropout_rate,
            "answer_units": self.answer_units,
            "attention_supervision": self.attention_supervision,
        }
