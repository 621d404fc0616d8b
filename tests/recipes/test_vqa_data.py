"""Questions about the generated scenes (`recipes.data.vqa`): determinism, layout, every answer and box
checked against the scene by an oracle of its own, per-type answer balance, the compositional split's
held-out pairs and phrasings, and CLEVR's TFDS path on mock data."""

import collections
import hashlib
import re
import time

import numpy as np
import pytest

from recipes import data
from recipes.data import scenes, vqa
from zoo.vocabulary import question_words

NAME = "vqa_scenes_fashion_mnist"
NOUNS = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]
POSITIONS = ["top left", "top right", "bottom left", "bottom right"]  # reading order: cell index 0-3
STEPS = {"to the left of": (0, -1), "to the right of": (0, 1), "above": (-1, 0), "below": (1, 0)}
ANSWERS_PER_TYPE = {"what": 11, "where": 4, "exists": 2, "count": 3, "size": 2, "relational": 10}


def digest(q):
    h = hashlib.sha256()
    for field in ("images", "scene", "questions", "answers", "types", "boxes", "held_out_pair", "held_out_phrasing"):
        h.update(np.ascontiguousarray(getattr(q, field)).tobytes())
    h.update("\n".join(q.texts).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def train():
    """The whole train split, generated here (not from the cache) and timed with its scenes."""
    start = time.process_time()  # CPU seconds: the shared test machine's load does not count
    scenes._generate.__wrapped__("fashion_mnist", "train", 0, scenes.SPLITS["train"], "auto", None)
    drawn = vqa._generate.__wrapped__("fashion_mnist", "train", 0, scenes.SPLITS["train"], "auto", None)
    return drawn, time.process_time() - start


@pytest.fixture(scope="module", params=["test", "compositional"])
def split(request):
    return request.param, data.load_questions(NAME, request.param)


def oracle(text, classes, cells, small):
    """(type, answer, named slot, answering slot) of a question about one scene, read from its words
    and the scene's arrays alone."""
    where = {int(cell): slot for slot, cell in enumerate(cells) if cell >= 0}
    slot_of = {NOUNS[classes[slot]]: slot for slot in where.values()}
    words = text.rstrip("?").split()
    nouns = [w for w in words if w in NOUNS]
    noun = nouns[0] if len(nouns) == 1 else None
    position = next((p for p in POSITIONS if p in text), None)
    step = next((s for s in STEPS if f" {s} " in text), None)
    if step:
        slot = slot_of[noun]
        row, column = divmod(int(cells[slot]), 2)
        dr, dc = STEPS[step]
        other = where[2 * (row + dr) + column + dc]
        assert 0 <= row + dr < 2 and 0 <= column + dc < 2, text
        return "relational", NOUNS[classes[other]], slot, other
    if position:
        slot = where.get(POSITIONS.index(position), -1)
        return "what", NOUNS[classes[slot]] if slot >= 0 else "nothing", slot, slot
    if "how many" in text or "number" in text:
        return "count", ["two", "three", "four"][len(where) - 2], -1, -1
    if "size" in text or "big" in text or "small or large" in text:
        return "size", "small" if small[slot_of[noun]] else "large", slot_of[noun], slot_of[noun]
    if text.startswith(("where", "in which cell", "which cell")):
        return "where", POSITIONS[int(cells[slot_of[noun]])], slot_of[noun], slot_of[noun]
    slot = slot_of.get(noun, -1)
    return "exists", "yes" if slot >= 0 else "no", slot, slot


def phrasing_of(text, question_type):
    """Index of the phrasing of `question_type` that `text` fills."""
    fill = {"noun": "(?:" + "|".join(map(re.escape, NOUNS)) + ")", "a": "an?",
            "position": "(?:" + "|".join(POSITIONS) + ")", "relation": "(?:" + "|".join(STEPS) + ")"}
    matches = [k for k, p in enumerate(vqa.PHRASINGS[question_type])
               if re.fullmatch(re.escape(p).replace(r"\{", "{").replace(r"\}", "}").format(**fill), text)]
    assert len(matches) == 1, (text, matches)
    return matches[0]


def check_against_scenes(q, drawn):
    """Every question's type, answer and boxes as the oracle says; returns per question (does it
    name a held-out class-cell pair, its phrasing index)."""
    pairs, phrasings = [], []
    for i, text in enumerate(q.texts):
        s = q.scene[i]
        kind, answer, named, answering = oracle(text, drawn.classes[s], drawn.cells[s], drawn.small[s])
        assert (q.question_types[q.types[i]], q.answer_words[q.answers[i]]) == (kind, answer), text
        for hop, slot in enumerate((named, answering)):
            expected = drawn.boxes[s, slot] if slot >= 0 else [-1] * 4
            np.testing.assert_array_equal(q.boxes[i, hop], expected, err_msg=text)
        pairs.append(any(slot >= 0 and drawn.cells[s, slot] == drawn.classes[s, slot] % 4 for slot in (named, answering)))
        phrasings.append(phrasing_of(text, kind))
    return np.array(pairs), np.array(phrasings)


def test_same_seed_same_bytes_other_seed_other_questions():
    first = data.load_questions(NAME, "test", limit=300)
    again = vqa._generate.__wrapped__("fashion_mnist", "test", 0, 61, "auto", None)
    assert digest(first) == digest(vqa.load(NAME, "test", limit=300)) and again.texts[:300] == first.texts
    np.testing.assert_array_equal(again.answers[:300], first.answers)
    assert data.load_questions(NAME, "test", seed=1, limit=300).texts != first.texts
    # The first N questions are the first N of the whole split (a scene prefix gives a question prefix).
    whole = data.load_questions(NAME, "test")
    assert whole.texts[:300] == first.texts
    np.testing.assert_array_equal(whole.boxes[:300], first.boxes)
    assert len(first.images) == first.scene[-1] + 1


def test_layout_sizes_and_vocabularies(split):
    name, q = split
    info = data.info(NAME)
    assert len(q) == info["splits"][name] == 5_000 and len(q.images) == 1_000
    assert q.images.shape == (1_000, 64, 64, 1) and q.images.dtype == np.uint8
    assert np.shares_memory(q.images, data.load_scenes("scenes_fashion_mnist", "test").images)  # not copied
    assert (q.scene.dtype, q.answers.dtype, q.types.dtype, q.boxes.dtype, q.questions.dtype) == (
        np.int64, np.int64, np.int64, np.int64, np.int32)
    assert q.questions.shape == (5_000, vqa.MAX_QUESTION_LEN) == (5_000, info["max_question_len"]) and q.boxes.shape == (5_000, 2, 4)
    per_scene = np.bincount(q.scene, minlength=1_000)  # 5 a scene; one passed over pays it back to a later one
    assert per_scene.min() >= 1 and per_scene.max() <= 6 and (per_scene == 5).mean() > 0.6
    assert not any(getattr(q, f).flags.writeable for f in ("images", "scene", "questions", "answers", "types", "boxes"))
    assert q.tokens == info["tokens"] and q.tokens[0] == "<pad>" and q.answer_words == info["answer_words"]
    for ids, text in zip(q.questions, q.texts):
        words = [q.tokens[k] for k in ids if k]
        assert words == text[:-1].split() + ["?"] and ids[len(words):].max(initial=0) == 0
    assert q.question_types == ["what", "where", "exists", "count", "size", "relational"]
    assert set(q.answer_words) == {*NOUNS, "nothing", *POSITIONS, "yes", "no", "two", "three", "four", "small", "large"}
    digits = data.info("vqa_scenes_mnist5k")["answer_words"]
    assert len(digits) == len(set(digits)) == 19 and "nine" in data.info("vqa_scenes_mnist5k")["tokens"]


def test_every_answer_and_box_is_true_against_the_scene(split):
    name, q = split
    drawn = data.load_scenes("scenes_fashion_mnist", "test")
    check_against_scenes(q, drawn)
    for i in np.flatnonzero(q.boxes[:, 1, 0] >= 0)[:500]:  # a box holds its item's ink, inside one cell
        for y0, x0, y1, x1 in q.boxes[i]:
            if y0 >= 0:
                assert y1 - y0 <= 28 and x1 - x0 <= 28 and y0 // 32 == (y1 - 1) // 32 and x0 // 32 == (x1 - 1) // 32
                assert q.images[q.scene[i], y0:y1, x0:x1].max() >= scenes.BOX_THRESHOLD
    assert (q.boxes[:, 0, 0] >= 0).mean() > 0.6 and ((q.boxes[:, 0] >= 0) == (q.boxes[:, 1] >= 0)).all()


def answer_shares(q):
    """{type: (share of its most frequent answer, its answer count k)}"""
    shares = {}
    for t, name in enumerate(q.question_types):
        counts = collections.Counter(q.answers[q.types == t].tolist())
        shares[name] = (max(counts.values()) / sum(counts.values()), len(counts))
    return shares


def test_answers_are_balanced_within_each_type(train, split):
    for q in (train[0], split[1]):
        for name, (share, seen) in answer_shares(q).items():
            k = ANSWERS_PER_TYPE[name]
            assert seen == k and share <= 1 / k + 0.03, (name, share)
        assert min(np.bincount(q.types)) > 0.1 * len(q)


def test_train_is_whole_checked_and_generated_within_a_minute(train):
    drawn, seconds = train
    assert len(drawn) == data.info(NAME)["splits"]["train"] == 100_000 and len(drawn.images) == 20_000
    assert seconds < 60, f"train generation took {seconds:.1f} s"
    pairs, phrasings = check_against_scenes(drawn, data.load_scenes("scenes_fashion_mnist", "train"))
    assert not pairs.any(), "a training question names a held-out class-cell pair"
    held_out = np.array([len(vqa.PHRASINGS[t]) - 1 for t in np.array(drawn.question_types)[drawn.types]])
    assert not (phrasings == held_out).any(), "a training question uses a held-out phrasing"
    assert len(set(phrasings)) == 3 and not drawn.held_out_pair.any() and not drawn.held_out_phrasing.any()


def test_compositional_questions_all_ask_something_training_never_does(train):
    q = data.load_questions(NAME, "compositional")
    test = data.load_questions(NAME, "test")
    drawn = data.load_scenes("scenes_fashion_mnist", "test")
    pairs, phrasings = check_against_scenes(q, drawn)
    held_out = np.array([len(vqa.PHRASINGS[t]) - 1 for t in np.array(q.question_types)[q.types]])
    np.testing.assert_array_equal(pairs, q.held_out_pair)
    np.testing.assert_array_equal(phrasings == held_out, q.held_out_phrasing)
    assert (pairs ^ (phrasings == held_out)).all(), "each compositional question is new in exactly one way"
    assert 0.25 < pairs.mean() < 0.75
    test_pairs, test_phrasings = check_against_scenes(test, drawn)
    assert not test_pairs.any() and not (test_phrasings == np.array(
        [len(vqa.PHRASINGS[t]) - 1 for t in np.array(test.question_types)[test.types]])).any()
    assert not set(t for t, p in zip(q.texts, pairs) if not p) & set(train[0].texts)


def test_every_phrasing_fits_and_is_in_the_vocabulary():
    for base in scenes.NOUNS:
        words = set(vqa.tokens(base))
        for phrasings in vqa.PHRASINGS.values():
            for p in phrasings:
                for noun in scenes.NOUNS[base]:
                    for position in POSITIONS:
                        for relation in STEPS:
                            text = p.format(noun=noun, a="an", position=position, relation=relation)
                            assert len(question_words(text)) <= vqa.MAX_QUESTION_LEN and set(question_words(text)) <= words | {"an"}


def test_catalogue_entries_model_config_preview_and_errors(tmp_path):
    assert {"vqa_scenes_fashion_mnist", "vqa_scenes_mnist5k", "vqa_clevr"} <= set(data.list_datasets())
    info = data.info(NAME)
    assert info["kind"] == "questions" and set(info["splits"]) == {"train", "test", "compositional"}
    assert info["held_out_cells"]["t-shirt"] == "top left" and info["held_out_cells"]["boot"] == "top right"
    config = data.get(NAME).model_config({"hops": 2}, {})
    assert config == {"hops": 2, "image_shape": (64, 64, 1), "tokens": info["tokens"], "answers": info["answer_words"],
                      "max_question_len": 10}
    lines = data.preview(NAME, tmp_path / "vqa.png", split="compositional", n=4)
    assert lines[-1] == f"wrote {tmp_path / 'vqa.png'}" and (tmp_path / "vqa.png").stat().st_size > 1000
    assert re.fullmatch(r"  scene 0: .+\? → .+", lines[0])
    with pytest.raises(ValueError, match="use load_questions"):
        data.load_scenes(NAME)
    with pytest.raises(ValueError, match="expected one of train, test, compositional; got 'valid'"):
        data.load_questions(NAME, "valid")
    with pytest.raises(ValueError, match="expected one of train, test; got 'compositional'"):
        data.load_arrays("mnist5k", "compositional")
    with pytest.raises(ValueError, match="expected one of train, test; got 'compositional'"):
        data.load_questions("vqa_clevr", "compositional")


def test_clevr_path_on_tfds_mock_data():
    """The online CLEVR path, on TFDS's mock data (no download): RGB images resized to 64 px, question
    ids in the scenes' layout with the training split's words, and the model's options."""
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=3):
        q = data.load_questions("vqa_clevr", "train", limit=7)
        whole = data.load_questions("vqa_clevr", "train")
        config = data.get("vqa_clevr").model_config({}, {})
        raw = [(question.decode(), answer.decode().strip().lower()) for example in tfds.as_numpy(tfds.load("clevr", split="train"))
               for question, answer in zip(example["question_answer"]["question"], example["question_answer"]["answer"])]
    assert q.images.shape == (1, 64, 64, 3) and q.images.dtype == np.uint8 and len(q) == 7
    assert q.questions.shape == (7, vqa.CLEVR_MAX_QUESTION_LEN) and q.questions.dtype == np.int32
    assert q.tokens[:2] == ["<pad>", "<unk>"] and (q.boxes == -1).all() and q.texts == whole.texts[:7]
    for ids, text in zip(whole.questions, whole.texts):
        words = [whole.tokens[k] for k in ids if k]
        assert words == question_words(text)[: vqa.CLEVR_MAX_QUESTION_LEN] and 1 not in ids
    assert [(t, whole.answer_words[a]) for t, a in zip(whole.texts, whole.answers)] == raw
    assert whole.scene.max() == len(whole.images) - 1 == 2
    assert config == {"image_shape": (64, 64, 3), "tokens": whole.tokens, "answers": whole.answer_words,
                      "max_question_len": vqa.CLEVR_MAX_QUESTION_LEN}
    assert question_words("Is there a big cube; what color is it?") == ["is", "there", "a", "big", "cube", ";", "what",
                                                                      "color", "is", "it", "?"]
