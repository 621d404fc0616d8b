"""What every decoding-loop export shares (translators, captioners): the file holds two graphs,
`encode` (inputs → the decoder's start state) called once per input and `step` (previous tokens
and state → log p(y_t), next state, α_t) called once per token; a driver runs them with the same
greedy and beam search as the Keras model (`zoo.decoding`), with NumPy and LiteRT only. The
driver's metadata (vocabularies, lengths) travels in the sidecar `FILE.json` under its `kind`.

A kind of loop is a `Driver` subclass (its `kind`, its decoding `method`, `metadata(model)`,
`setup(meta)` and `step`) and a `signatures(model)` function; the rest is here.
"""

from export.runtime import Runtime, sidecar_metadata
from export.tflite import convert_signatures, write_checked_decoder

QUANTIZATIONS = (None, "float16", "dynamic")


def convert(kind, functions, quantize=None):
    """TFLite bytes with the signatures in `functions` (builtin ops only); full int8 is refused."""
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"a {kind} exports as fp32, float16 or dynamic; got quantize={quantize!r} "
                         "(full int8 would quantize the decoder state fed back at every step)")
    return convert_signatures(functions, quantize)


class Driver:
    """Decoding of an exported loop on LiteRT (or, given `signatures`, on a SavedModel)."""

    kind = ""  # the sidecar key of the metadata, e.g. "translator"
    method = ""  # the decoding method, the same on the Keras model and the driver, e.g. "translate"

    def __init__(self, path, meta=None, num_threads=None, signatures=None):
        """`path`: the `.tflite` file (its sidecar `path.json` holds `meta`); `signatures`: instead of
        LiteRT, a function name → runner (`export.saved_model.open_signatures` for a SavedModel)."""
        self.meta = meta = sidecar_metadata(path, self.kind) if meta is None else meta
        self.setup(meta)
        signatures = signatures or (lambda name: Runtime(path, num_threads=num_threads, signature=name))
        self.encoder, self.decoder = signatures("encode"), signatures("step")

    @staticmethod
    def metadata(model):
        """What the driver needs besides the graphs (JSON)."""
        raise NotImplementedError

    def setup(self, meta):
        """Build what decoding needs from `meta` (vocabularies)."""
        raise NotImplementedError


def _decode(model, method):
    """`decode(driver or None, inputs, beam_size)`: the driver's decoding, or Keras's for None."""
    return lambda driver, inputs, beam_size: getattr(driver or model, method)(inputs, beam_size=beam_size)


def to_tflite(driver, functions, model, path, check_inputs, quantize=None, atol=1e-4, extra_metadata=None):
    """Export `functions` (the loop's `encode` and `step` of `model`) to `path` (+ sidecar
    `path.json`), kept only if `driver` decodes `check_inputs` as Keras does
    (`export.tflite.write_checked_decoder`). Returns the checks."""
    meta = driver.metadata(model)
    return write_checked_decoder(path, convert(driver.kind, functions, quantize), lambda file: driver(file, meta),
                                 _decode(model, driver.method), check_inputs, quantize, atol,
                                 {**(extra_metadata or {}), driver.kind: meta})


def to_saved_model(driver, functions, model, path, check_inputs, atol=1e-4, extra_metadata=None):
    """`functions` as a SavedModel directory at `path` (+ sidecar `path.json`), kept only if
    `driver` running its signatures decodes `check_inputs` as Keras does."""
    from export.saved_model import open_signatures, to_saved_model_decoder

    meta = driver.metadata(model)
    return to_saved_model_decoder(path, functions, lambda d: driver(d, meta, signatures=open_signatures(d)),
                                  _decode(model, driver.method), check_inputs, atol,
                                  {**(extra_metadata or {}), driver.kind: meta})
