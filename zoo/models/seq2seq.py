"""Attention encoder-decoder (Bahdanau et al. 2015; Luong et al. 2015) and its no-attention baseline.

Encoder: embeddings → bidirectional GRU, annotations h_j = [h→_j; h←_j] (B, L, 2u);
decoder state s_0 = tanh(W_init [h→_L; h←_1]). One decoder step, with e = E y_{t−1}:

    bahdanau   c_t = attend(s_{t−1}, h);  s_t = GRU([e; c_t], s_{t−1});  o_t = tanh(W_o [s_t; c_t; e])
    luong_*    s_t = GRU([e; h̃_{t−1}], s_{t−1}) (input feeding);  c_t = attend(s_t, h);
               h̃_t = o_t = tanh(W_c [c_t; s_t])         (dot, general, concat, local_m, local_p)
    none       s_t = GRU(e, s_{t−1});  o_t = tanh(W_o [s_t; e])  (the encoder-decoder baseline)

    p(y_t | y_<t, x) = softmax(W_s o_t)

`fit` uses teacher forcing on inputs {"source": ids, "target_in": <s> y_1 … y_{T−1}} against
targets y_1 … y_T </s>; `translate(texts, beam_size)` decodes greedily or by beam search with
length normalisation (`zoo.decoding`) and returns tokens, scores and alignments α (T, L).
"""

import keras
import numpy as np
from keras import layers, ops

from layers.attention import AdditiveAttention, LocalAttention, MultiplicativeAttention
from zoo import decoding
from zoo.models.base import token_mean
from zoo.registry import register_model
from zoo.vocabulary import Vocabulary

ISO_DATE_TOKENS = list("-0123456789")


@register_model(
    "seq2seq",
    task="translator",
    summary="Attention encoder-decoder (Bahdanau; Luong global/local) with beam search; dates → ISO 8601",
    paper="Bahdanau, Cho, Bengio. Neural Machine Translation by Jointly Learning to Align and Translate. "
    "ICLR 2015; Luong, Pham, Manning. Effective Approaches to Attention-based NMT. EMNLP 2015",
    default_weights="dates_bahdanau",
)
@keras.saving.register_keras_serializable(package="attention_zoo")
class Seq2Seq(keras.Model):
    """Bidirectional-GRU encoder, attentive GRU decoder; returns p(y_t | y_<t, x) (B, T, V).

    Args:
        source_tokens, target_tokens: the vocabularies' ordinary tokens (saved in the config).
        level: "char" or "word" tokenisation of both sides.
        attention: "bahdanau", "luong_dot", "luong_general", "luong_concat", "local_m",
            "local_p" or "none" (the encoder-decoder baseline).
        embedding_dim, units: embedding width and encoder GRU width u (the decoder has 2u).
        attention_units: width of the additive/concat MLP and of local-p's W_p.
        window: D, the half-width of the local attention window.
        max_source_len, max_target_len: the longest input and output in tokens
            (the output counts </s>).
    """

    ATTENTIONS = ("bahdanau", "luong_dot", "luong_general", "luong_concat", "local_m", "local_p", "none")

    def __init__(
        self,
        source_tokens=(),
        target_tokens=tuple(ISO_DATE_TOKENS),
        level="char",
        attention="bahdanau",
        embedding_dim=32,
        units=64,
        attention_units=64,
        window=4,
        max_source_len=40,
        max_target_len=11,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if attention not in self.ATTENTIONS:
            raise ValueError(f"attention must be one of {self.ATTENTIONS}; got {attention!r}")
        self.source_vocab = Vocabulary(source_tokens, level)
        self.target_vocab = Vocabulary(target_tokens, level)
        self.attention_kind = attention
        self.embedding_dim, self.units, self.attention_units = int(embedding_dim), int(units), int(attention_units)
        self.window, self.max_source_len, self.max_target_len = int(window), int(max_source_len), int(max_target_len)
        d = 2 * self.units
        self.source_embedding = layers.Embedding(len(self.source_vocab), self.embedding_dim, mask_zero=True)
        self.encoder = layers.Bidirectional(
            layers.GRU(self.units, return_sequences=True, return_state=True), name="encoder"
        )
        self.init_state = layers.Dense(d, activation="tanh", name="W_init")
        self.target_embedding = layers.Embedding(len(self.target_vocab), self.embedding_dim)
        self.cell = layers.GRUCell(d, name="decoder")
        self.attention = {
            "bahdanau": lambda: AdditiveAttention(self.attention_units),
            "luong_dot": lambda: MultiplicativeAttention("dot"),
            "luong_general": lambda: MultiplicativeAttention("general"),
            "luong_concat": lambda: MultiplicativeAttention("concat", self.attention_units),
            "local_m": lambda: LocalAttention(self.window, "m", "general"),
            "local_p": lambda: LocalAttention(self.window, "p", "general", self.attention_units),
            "none": lambda: None,
        }[attention]()
        self.output_layer = layers.Dense(d, activation="tanh", use_bias=attention in ("bahdanau", "none"), name="W_o")
        self.classifier = layers.Dense(len(self.target_vocab), name="W_s")

    @property
    def luong(self):
        return self.attention_kind.startswith(("luong", "local"))

    def build_for_inputs(self):
        self({"source": ops.ones((1, self.max_source_len), "int32"),
              "target_in": ops.ones((1, self.max_target_len), "int32")})

    def get_build_config(self):
        return {"source": [None, self.max_source_len], "target_in": [None, self.max_target_len]}

    def build_from_config(self, config):
        """Loading from a .keras file: the variables come from one call on dummy ids."""
        self.build_for_inputs()

    def encode(self, source):
        """source ids (B, L) → state {s, feed, memory, mask}: the decoder's start state."""
        mask = ops.not_equal(source, 0)
        memory, forward, backward = self.encoder(self.source_embedding(source), mask=mask)
        s = self.init_state(ops.concatenate([forward, backward], axis=-1))
        return {"s": s, "feed": ops.zeros_like(s), "memory": memory, "mask": ops.cast(mask, "float32")}

    def step(self, tokens, state, t):
        """One decoder step (module docstring): y_{t−1} (B,) → p(y_t) (B, V), next state, α_t (B, L)."""
        e = self.target_embedding(tokens)
        s_prev, memory, mask = state["s"], state["memory"], state["mask"]
        if self.attention_kind == "none":
            s, _ = self.cell(e, [s_prev])
            out = self.output_layer(ops.concatenate([s, e], axis=-1))
            alpha = ops.zeros_like(mask)
        elif self.luong:
            s, _ = self.cell(ops.concatenate([e, state["feed"]], axis=-1), [s_prev])
            position = {"position": t} if self.attention_kind == "local_m" else {}
            c, alpha = self.attention(s, memory, mask=mask, **position)
            out = self.output_layer(ops.concatenate([c, s], axis=-1))
        else:
            c, alpha = self.attention(s_prev, memory, mask=mask)
            s, _ = self.cell(ops.concatenate([e, c], axis=-1), [s_prev])
            out = self.output_layer(ops.concatenate([s, c, e], axis=-1))
        probabilities = ops.softmax(self.classifier(out), axis=-1)
        return probabilities, {"s": s, "feed": out, "memory": memory, "mask": mask}, alpha

    def call(self, inputs, training=False, return_alignments=False):
        source, target_in = self.check_inputs(inputs)
        state = self.encode(source)
        probabilities, alignments = [], []
        for t in range(target_in.shape[1]):
            p, state, alpha = self.step(target_in[:, t], state, t)
            probabilities.append(p)
            alignments.append(alpha)
        probabilities = ops.stack(probabilities, axis=1)
        return (probabilities, ops.stack(alignments, axis=1)) if return_alignments else probabilities

    def check_inputs(self, inputs):
        """Refuse inputs that are not {"source": int ids (B, L ≤ max), "target_in": int ids (B, T)}."""
        if not isinstance(inputs, dict) or set(inputs) != {"source", "target_in"}:
            got = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise ValueError(
                f'model {self.name!r} takes a dict {{"source": ids, "target_in": ids}} of token ids; got {got}. '
                "To convert text, use model.translate(texts)."
            )
        for key, limit in (("source", self.max_source_len), ("target_in", self.max_target_len)):
            ids = inputs[key]
            dtype = keras.backend.standardize_dtype(ids.dtype)
            if "int" not in dtype or len(ids.shape) != 2 or (ids.shape[1] is not None and ids.shape[1] > limit):
                raise ValueError(
                    f"{key!r} must be integer token ids of shape (batch, ≤{limit}); got {dtype} {tuple(ids.shape)}"
                )
        return inputs["source"], inputs["target_in"]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Mean cross-entropy over the target tokens, padding (id 0) excluded."""
        nll = keras.losses.sparse_categorical_crossentropy(y, ops.cast(y_pred, "float32"))  # float32 under mixed precision
        return token_mean(nll, y)

    def teacher_forcing(self, sources, targets):
        """({"source", "target_in"}, target_out) id arrays for `fit` from parallel lists of texts."""
        source = self.source_vocab.encode(sources, self.max_source_len)
        framed = self.target_vocab.encode(targets, self.max_target_len + 1, bos=True, eos=True)
        return {"source": source, "target_in": framed[:, :-1]}, framed[:, 1:]

    def translate(self, texts, beam_size=1, alpha=1.0, batch_size=256):
        """Decode `texts`: a list of dicts {text, tokens, score, alignments (steps, source length)}.

        beam_size=1 is greedy decoding; larger beams rank hypotheses by Σ log p / |y|^alpha.
        """
        if isinstance(texts, str):
            texts = [texts]
        self.source_vocab.check_readable(texts)
        results = []
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            state = self.encode(self.source_vocab.encode(batch, self.max_source_len))
            state = {k: ops.convert_to_numpy(v) for k, v in state.items()}
            results += decoding.translate(
                self._keras_step, state, batch, self.source_vocab, self.target_vocab, self.max_target_len, beam_size, alpha
            )
        return results

    def _keras_step(self, tokens, state, t):
        """`step` on NumPy arrays, with log-probabilities, for `zoo.decoding`."""
        p, state, alpha = self.step(ops.convert_to_tensor(tokens), state, t)
        state = {k: ops.convert_to_numpy(v) for k, v in state.items()}
        return np.log(np.maximum(ops.convert_to_numpy(p), 1e-30)), state, ops.convert_to_numpy(alpha)

    def picture(self, texts, references, path, beam_size=1):
        """Write a PNG of the alignment matrices α of the translations of `texts`."""
        from zoo.pictures import alignment_picture

        results = [{**r, "source": t} for r, t in zip(self.translate(texts, beam_size=beam_size), texts)]
        title = f"seq2seq alignments α, attention {self.attention_kind!r} (rows: output tokens, columns: source)"
        return alignment_picture(results, references, path, title=title)

    def get_config(self):
        return {
            **super().get_config(),
            "source_tokens": self.source_vocab.tokens,
            "target_tokens": self.target_vocab.tokens,
            "level": self.source_vocab.level,
            "attention": self.attention_kind,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "attention_units": self.attention_units,
            "window": self.window,
            "max_source_len": self.max_source_len,
            "max_target_len": self.max_target_len,
        }
