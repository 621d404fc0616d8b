"""Conformance: every registered model (`zoo.list_models()`), by its declared task, builds from a
small config, takes one `fit` step, round-trips through a `.keras` file with safe_mode, answers its
task's predict call, and exports to TFLite (fp32) with the same outputs. Runs on both backends.

A new model needs an entry in SMALL (its small test config), and a new task an entry in TASKS:
without one, its tests fail instead of passing by."""

import collections

import keras
import numpy as np
import pytest

import zoo
from zoo import decoding, registry

SMALL = {
    "cnn": dict(image_shape=(12, 12, 1), num_classes=3, class_names=["a", "b", "c"], filters=(4, 8), kernel_size=3,
                units=8),
    "stn": dict(image_shape=(12, 12, 1), num_classes=3, output_size=(12, 12), filters=(4, 8), kernel_size=3, units=8),
    "ram": dict(image_shape=(16, 16, 1), num_classes=3, glimpses=2, glimpse_size=4, scales=2, glimpse_units=8,
                location_units=8, hidden_units=8),
    "draw_classifier": dict(image_shape=(12, 12, 1), num_classes=3, glimpses=2, read_size=3, units=8),
    "grid_lstm_image": dict(image_shape=(8, 8, 1), num_classes=3, units=4, depth=1, patch_size=4),
    "grid_lstm": dict(bits=6, units=4, depth=2),
    "draw": dict(image_shape=(8, 8, 1), steps=2, units=8, latent_dim=3, read_size=2, write_size=3),
    "seq2seq": dict(source_tokens=tuple("abc 12"), attention="local_p", embedding_dim=4, units=4, attention_units=4,
                    window=2, max_source_len=8, max_target_len=3),
    "show_attend_tell": dict(tokens=("a", "b", "c"), image_shape=(16, 16, 1), filters=(4, 8), embedding_dim=4, units=8,
                             attention_units=4, max_len=2, seed=1),
    "grid_lstm_lm": dict(tokens=tuple("\n abc"), units=4, depth=2, context=6),
    "handwriting": dict(tokens=("<pad>", " ", "a", "b", "c"), max_text_len=6, units=8, layers=2, components=3, window=2),
    "vqa": dict(tokens=("<pad>", "what", "is", "left", "of", "bag", "?"), answers=("bag", "shoe", "yes"),
                image_shape=(16, 16, 1), max_question_len=5, filters=(4, 8), embedding_dim=4, units=8,
                attention_units=4),
}
# Options whose weights or state the small config lacks, round-tripped as well.
VARIANTS = {"ram": [{"core": "lstm"}], "seq2seq": [{"attention": "luong_concat"}],
            "show_attend_tell": [{"attention": "hard"}]}
N = 2  # examples in the tiny batch


def small(name, **overrides):
    """A fresh model `name`, its builder's defaults with the small config (no card involved), seeded;
    or a failure naming the missing config."""
    if name not in SMALL:
        pytest.fail(f"model {name!r} has no small test config: add one to SMALL in {__name__}")
    keras.utils.set_random_seed(0)
    return registry.build(name, **{**SMALL[name], **overrides})


def task_of(name):
    task = registry.task(name)
    if task not in TASKS:
        pytest.fail(f"task {task!r} of model {name!r} has no conformance checks: add it to TASKS in {__name__}")
    return TASKS[task]


Batch = collections.namedtuple("Batch", "x y inputs")  # fit inputs and targets; the predict call's inputs


def binary(rng, shape):
    """0/1 floats: valid images in [0, 1] and valid parity bits alike."""
    return rng.integers(0, 2, (N, *shape)).astype("float32")


def words(rng, tokens, longest, sep):
    return [sep.join(rng.choice(tokens, rng.integers(1, longest + 1))) for _ in range(N)]


# Per task: the tiny batch, from the model's input spec.
def classifier_batch(model, rng):
    (_, shape), = model.serving_signature()[0].items()  # a classifier takes one input: images or bits
    x = binary(rng, shape[1:])
    return Batch(x, rng.integers(0, model.num_classes, N), x)


def translator_batch(model, rng):
    texts = words(rng, [t for t in model.source_vocab.tokens if t.strip()], model.max_source_len, "")
    targets = words(rng, model.target_vocab.tokens, model.max_target_len - 1, "")
    x, y = model.teacher_forcing(texts, targets)
    return Batch(x, y, texts)


def captioner_batch(model, rng):
    images = binary(rng, model.image_shape)
    x, y = model.teacher_forcing(images, words(rng, model.vocab.tokens, model.max_len, " "))
    return Batch(x, y, images)


def generator_batch(model, rng):
    return Batch(binary(rng, model.image_shape), np.zeros(N), decoding.standard_noise(N, model.steps, model.latent_dim))


def language_model_batch(model, rng):
    ids = rng.integers(0, len(model.tokens), (N, model.context + 1)).astype("int32")
    return Batch(ids[:, :-1], ids[:, 1:], model.decode(ids[0, :3]))


def question_answerer_batch(model, rng):
    images = binary(rng, model.image_shape)
    questions = words(rng, model.tokens[1:], model.max_question_len, " ")
    return Batch({"images": images, "questions": model.question_ids(questions)}, rng.integers(0, len(model.answers), N),
                 (images, questions))


def stroke_writer_batch(model, rng):
    texts = words(rng, list("abc "), model.max_text_len, "")
    strokes = rng.normal(size=(N, 6, 3)).astype("float32")
    strokes[..., 2] = rng.random((N, 6)) < 0.3
    strokes[:, -1, 2] = 1.0  # every line ends with a pen lift
    return Batch({"strokes": strokes, "text": model.encode(texts)}, np.zeros(N), texts)


# Per task: what the predict call's answer must be.
def check_classifier(model, batch, probabilities):
    assert probabilities.shape == (N, model.num_classes) and len(model.class_names) == model.num_classes
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)


def check_translator(model, batch, results):
    assert len(results) == N
    for text, result in zip(batch.inputs, results):
        assert set(result["text"]) <= set(model.target_vocab.tokens) and np.isfinite(result["score"])
        assert 0 <= result["confidence"] <= 1 and result["alignments"].shape[1] == len(text)


def check_captioner(model, batch, results):
    assert len(results) == N
    for result in results:
        assert set(result["words"]) <= set(model.vocab.tokens) and np.isfinite(result["score"])
        steps = min(len(result["words"]) + 1, model.max_len + 1)  # α at every word and at </s>, if it came
        assert result["attention"].shape == (steps, *model.grid)
        np.testing.assert_allclose(result["attention"].sum((1, 2)), 1.0, atol=1e-5)


def check_generator(model, batch, generated):
    canvases, writes = generated
    assert canvases.shape == (N, model.steps, *model.image_shape) and np.all((canvases >= 0) & (canvases <= 1))
    assert writes["centre"].shape == (N, model.steps, 2)


def check_language_model(model, batch, text):
    assert len(text) == 5 and set(text) <= set(model.tokens)


def check_question_answerer(model, batch, answered):
    answers, probabilities, maps = answered
    assert len(answers) == N and set(answers) <= set(model.answers)
    assert probabilities.shape == (N,) and np.all((probabilities >= 1 / len(model.answers)) & (probabilities <= 1))
    assert maps.shape == (N, model.hops, *model.grid)
    np.testing.assert_allclose(maps.sum((2, 3)), 1.0, atol=1e-5)


def check_stroke_writer(model, batch, results):
    assert [r["text"] for r in results] == batch.inputs
    for result in results:
        strokes, phi = result["strokes"], result["phi"]
        assert strokes.dtype == np.float32 and strokes.shape[1:] == (3,) and len(strokes) <= 4
        assert np.all(np.isfinite(strokes)) and set(np.unique(strokes[:, 2])) <= {0.0, 1.0}
        assert phi.shape == (len(strokes), len(result["text"])) and np.all(phi >= 0)


def stroke_writer_step(model, batch):
    """The exported step's inputs: the batch's text ids, biases 0 … 1 and random states."""
    rng = np.random.default_rng(4)
    feed = {name: rng.normal(0, 0.5, (N, *shape[1:])).astype("float32")
            for name, shape in model.serving_signature()[0].items()}
    return {**feed, "text": batch.x["text"], "bias": np.linspace(0, 1, N).astype("float32")}


# Per task: the TFLite export (fp32) with its parity check; each raises if the file differs from Keras.
def export_serving(feed):
    def export(model, batch, path):
        from export import to_tflite

        report = to_tflite(model, path, check_inputs=feed(model, batch))
        assert report.matching == 1.0 and report.checked_examples == N

    return export


def export_decoder(to_tflite_decoder):
    def export(model, batch, path):
        report = to_tflite_decoder(model, path, batch.inputs)
        assert report["identical_outputs_percent"] == 100.0 and report["check_inputs"] == N

    return export


def to_tflite_translator(model, path, texts):
    from export.seq2seq import to_tflite_translator

    return to_tflite_translator(model, path, texts)


def to_tflite_captioner(model, path, images):
    from export.captioner import to_tflite_captioner

    return to_tflite_captioner(model, path, images)


# Per task: the predict call.
def classify(model, batch):
    return model.predict(batch.inputs, verbose=0)


def translate(model, batch):
    return model.translate(batch.inputs, beam_size=2)


def caption(model, batch):
    return model.caption(batch.inputs, beam_size=2)


def generate(model, batch):
    return model.generate(N, seed=0)


def complete(model, batch):
    return model.complete(batch.inputs, length=5, temperature=1.0, seed=0)


def write(model, batch):
    return model.write(batch.inputs, bias=0.5, seed=0, max_steps=4)


def answer(model, batch):
    return model.answer(*batch.inputs)


# batch: the tiny batch; predict: the predict call, judged by check; outputs: what the `.keras` round trip
# compares (the forward pass, which for a classifier gives predict's numbers, and the predict call);
# export: the TFLite file, parity-checked.
Task = collections.namedtuple("Task", "batch predict check outputs export")
TASKS = {
    "classifier": Task(classifier_batch, classify, check_classifier, lambda m, b: m(b.x),
                       export_serving(lambda m, b: b.x)),
    "translator": Task(translator_batch, translate, check_translator, lambda m, b: [m(b.x), translate(m, b)],
                       export_decoder(to_tflite_translator)),
    "captioner": Task(captioner_batch, caption, check_captioner, lambda m, b: [m(b.x), caption(m, b)],
                      export_decoder(to_tflite_captioner)),
    "generator": Task(generator_batch, generate, check_generator, lambda m, b: [m.bound(b.x), generate(m, b)],
                      export_serving(lambda m, b: {"noise": b.inputs})),
    "language_model": Task(language_model_batch, complete, check_language_model,
                           lambda m, b: [m(b.x), complete(m, b)], export_serving(lambda m, b: b.x)),
    "stroke_writer": Task(stroke_writer_batch, write, check_stroke_writer, lambda m, b: [m(b.x), write(m, b)],
                          export_serving(stroke_writer_step)),
    "question_answerer": Task(question_answerer_batch, answer, check_question_answerer,
                              lambda m, b: [m(b.x, return_attention=True), answer(m, b)],
                              export_serving(lambda m, b: b.x)),
}


def case(name, overrides=None):
    """A test case named by task, model and options: "classifier-ram", "classifier-ram-lstm"."""
    label = "-".join([registry.task(name), name, *map(str, (overrides or {}).values())])
    return pytest.param(name, *([overrides] if overrides is not None else []), id=label)


MODELS = [case(name) for name in sorted(zoo.list_models(), key=registry.task)]


def test_the_configs_name_registered_models_and_every_task_has_checks():
    assert set(SMALL) | set(VARIANTS) <= set(zoo.list_models()) and set(registry.TASKS) <= set(TASKS)


@pytest.mark.parametrize("name", MODELS)
def test_one_fit_step_updates_the_weights(name):
    model, task = small(name), task_of(name)
    batch = task.batch(model, np.random.default_rng(0))
    before = [np.array(w) for w in model.trainable_weights]
    # Eager on TensorFlow (tracing costs more than a tiny step), jit-compiled on JAX (whose eager mode
    # compiles every primitive op): between the two backends, the eager and the traced paths.
    eager = keras.backend.backend() == "tensorflow"
    model.compile(keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", run_eagerly=eager)
    loss = model.fit(batch.x, batch.y, batch_size=N, epochs=1, verbose=0).history["loss"]
    assert len(loss) == 1 and np.isfinite(loss[0])
    after = [np.asarray(w) for w in model.trainable_weights]
    assert all(np.all(np.isfinite(w)) for w in after)
    assert any(not np.array_equal(a, b) for a, b in zip(after, before)), "the fit step left every weight as it was"


@pytest.mark.parametrize("name", MODELS)
def test_the_task_predict_call_answers(name):
    model, task = small(name), task_of(name)
    batch = task.batch(model, np.random.default_rng(1))
    task.check(model, batch, task.predict(model, batch))


@pytest.mark.parametrize("name, overrides", [
    *(case(name, {}) for name in sorted(zoo.list_models(), key=registry.task)),
    *(case(name, overrides) for name, variants in VARIANTS.items() for overrides in variants),
])
def test_keras_file_round_trip_in_safe_mode(name, overrides, tmp_path):
    model, task = small(name, **overrides), task_of(name)
    batch = task.batch(model, np.random.default_rng(2))
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    expected, got = (keras.tree.flatten(task.outputs(m, batch)) for m in (model, loaded))
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        if isinstance(b, str):
            assert a == b
        else:
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TFLite export converts TensorFlow graphs")
@pytest.mark.parametrize("name", MODELS)
def test_tflite_export_matches_keras(name, tmp_path):
    model, task = small(name), task_of(name)
    batch = task.batch(model, np.random.default_rng(3))
    task.export(model, batch, tmp_path / "model.tflite")
    assert (tmp_path / "model.tflite").stat().st_size > 0
