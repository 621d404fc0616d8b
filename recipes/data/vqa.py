"""Questions about the generated scenes (issue 33; the data of Stacked Attention Networks' recipes):
`vqa_scenes_fashion_mnist` and `vqa_scenes_mnist5k`; and CLEVR through TFDS for online users (`vqa_clevr`).

    from recipes.data import vqa
    q = vqa.load("vqa_scenes_fashion_mnist", "test")    # a `Questions`
    q.images[q.scene[0]], q.texts[0], q.answer_words[q.answers[0]], q.boxes[0]

The questions ask about the scenes of `recipes.data.scenes` (same base and seed; train questions from
the train scenes, test and compositional questions from the test scenes), QUESTIONS_PER_SCENE a
scene, each of a different type (QUESTION_TYPES), each type in several phrasings (PHRASINGS):

    what        what is at the top left?            → a class noun or "nothing"
    where       where is the bag?                   → top left | top right | bottom left | bottom right
    exists      is there a bag?                     → yes | no
    count       how many items are there?           → two | three | four
    size        what size is the bag?               → small | large
    relational  what is to the left of the bag?     → the class in the neighbouring cell (left of, right of,
                                                      above, below; asked only when that cell is occupied)

Answers are balanced within each type: a scene's question of a type takes the answer that type has
given least so far, and a type is passed over (its question goes to a later scene; the split's last
scene pays what is owed) while that answer is SLACK or more ahead of the type's rarest; so a
question-only model is at chance per type. The held-out pairs below leave some answers out for some
questions ("where is the t-shirt?" is never "top left" in training), so one that reads the class
does a little better: 1/3 on "where", not 1/4.

Compositional split: class c's held-out cell is CELLS[c % 4] and each type's last phrasing is held
out. Train and test never ask a question whose named item (hop 1) or answering item (last hop) is
class c at its held-out cell, nor use a held-out phrasing; every compositional question does one of
the two: a held-out pair in a seen phrasing (answers balanced apart from the others; never "is there
a c?", which would always say yes), or else seen pairs in the held-out phrasing.
"""

import dataclasses
import functools

import numpy as np

from recipes.data import kinds, scenes, sources
from zoo.vocabulary import encode_questions, question_words

QUESTION_TYPES = ("what", "where", "exists", "count", "size", "relational")
PHRASINGS = {  # the last phrasing of each type is held out for the compositional split
    "what": ("what is at the {position}?", "what is in the {position}?", "which item is at the {position}?",
             "what can you see at the {position}?"),
    "where": ("where is the {noun}?", "in which cell is the {noun}?", "which cell holds the {noun}?",
              "where can you find the {noun}?"),
    "exists": ("is there {a} {noun}?", "does the scene contain {a} {noun}?", "is there {a} {noun} in the picture?",
               "can you see {a} {noun}?"),
    "count": ("how many items are there?", "how many things are in the scene?", "what is the number of items?",
              "how many objects can you see?"),
    "size": ("what size is the {noun}?", "is the {noun} small or large?", "how big is the {noun}?",
             "what is the size of the {noun}?"),
    "relational": ("what is {relation} the {noun}?", "which item is {relation} the {noun}?",
                   "what lies {relation} the {noun}?", "what sits {relation} the {noun}?"),
}
POSITIONS = tuple(f"{scenes.ROWS[r]} {scenes.COLUMNS[c]}" for r, c in scenes.CELLS)  # in CELLS order
RELATIONS = {"to the left of": (0, -1), "to the right of": (0, 1), "above": (-1, 0), "below": (1, 0)}
COUNTS = ("two", "three", "four")  # the answers of "count": 2–4 items
SPLITS = ("train", "test", "compositional")
SCENE_SPLIT = {"train": "train", "test": "test", "compositional": "test"}
QUESTIONS_PER_SCENE = 5
MAX_QUESTION_LEN = 10  # tokens of the longest phrasing, "?" included
SLACK = 3
NAMES = {f"vqa_scenes_{base}": base for base in scenes.NOUNS}


def held_out_cell(class_id):
    """The cell (index into scenes.CELLS) at which class `class_id` is only asked about in the
    compositional split."""
    return class_id % len(scenes.CELLS)


def base_of(name):
    if name not in NAMES:
        raise ValueError(f"unknown scene question dataset {name!r}; expected one of {', '.join(NAMES)}")
    return NAMES[name]


def _article(noun):
    return "an" if noun[0] in "aeiou" else "a"


def answer_words(base):
    """The shared answer vocabulary: class nouns, "nothing", positions, yes/no, counts, sizes (a word
    said by two types, MNIST's "two", is one answer)."""
    return list(dict.fromkeys([*scenes.NOUNS[base], "nothing", *POSITIONS, "yes", "no", *COUNTS, "small", "large"]))


def type_answers(base):
    """The answers each type can give, in QUESTION_TYPES order."""
    nouns = scenes.NOUNS[base]
    return [[*nouns, "nothing"], list(POSITIONS), ["yes", "no"], list(COUNTS), ["small", "large"], list(nouns)]


def pair_answers(base):
    """The answers each type can give about a held-out pair (none for "exists": it would always say
    yes, so it is not asked about one; none for "count": it names no item)."""
    nouns = scenes.NOUNS[base]
    return [list(nouns), list(POSITIONS), [], [], ["small", "large"], list(nouns)]


def tokens(base):
    """The question vocabulary: "<pad>" (id 0), then every word of every phrasing, sorted."""
    nouns = scenes.NOUNS[base]
    words = {w for phrasings in PHRASINGS.values() for p in phrasings for noun in nouns for position in POSITIONS
             for relation in RELATIONS
             for w in question_words(p.format(noun=noun, a=_article(noun), position=position, relation=relation))}
    return ["<pad>", *sorted(words)]


def info(name):
    """The dataset's description (`Dataset.info`, kind "questions")."""
    base = base_of(name)
    source = scenes.info(f"scenes_{base}")
    return {
        "name": name,
        "kind": "questions",
        "image_shape": source["image_shape"],
        "splits": {split: QUESTIONS_PER_SCENE * scenes.SPLITS[SCENE_SPLIT[split]] for split in SPLITS},
        "questions_per_scene": QUESTIONS_PER_SCENE,
        "max_question_len": MAX_QUESTION_LEN,
        "tokens": tokens(base),
        "answer_words": answer_words(base),
        "question_types": list(QUESTION_TYPES),
        "held_out_cells": {noun: POSITIONS[held_out_cell(c)] for c, noun in enumerate(scenes.NOUNS[base])},
        "base": base,
        "scenes": source["name"],
        "description": f"{QUESTIONS_PER_SCENE} questions a scene of '{source['name']}' (train questions from its train "
        "scenes, test and compositional from its test scenes): what is at a place, where is a class, is there a class, "
        "how many items, what size is a class, what is left of / right of / above / below a class (two steps); answers "
        "balanced within each type; boxes of the named and the answering item. The compositional split asks about "
        "class-cell pairs and in phrasings that training never does.",
        "license": source["license"],
    }


@dataclasses.dataclass(frozen=True)
class Questions:
    """`images` uint8 (S, H, W, C), the scenes; per question (Q of them): `scene` int64 index into
    images, `questions` int32 (Q, max_question_len) ids into `tokens` (0 = "<pad>"), `answers` int64
    into `answer_words`, `types` int64 into `question_types`, `boxes` int64 (Q, 2, 4) as (y0, x0,
    y1, x1), end exclusive, of the named item (hop 1) and the answering item (last hop), −1 where
    none; `held_out_pair` and `held_out_phrasing` bool (what makes a compositional question new);
    `texts` the question strings."""

    images: np.ndarray
    scene: np.ndarray
    questions: np.ndarray
    answers: np.ndarray
    types: np.ndarray
    boxes: np.ndarray
    held_out_pair: np.ndarray
    held_out_phrasing: np.ndarray
    texts: list
    tokens: list
    answer_words: list
    question_types: list

    def __len__(self):
        return len(self.answers)

    def inputs(self, rows=slice(None)):
        """A question answerer's inputs for questions `rows`, as stored: {"images": uint8, each
        question's scene, "questions": word ids}."""
        return {"images": self.images[self.scene[rows]], "questions": self.questions[rows]}


PER_QUESTION = ("scene", "questions", "answers", "types", "boxes", "held_out_pair", "held_out_phrasing", "texts")


def _read_only(questions):
    for field in dataclasses.fields(questions):
        value = getattr(questions, field.name)
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    return questions


def load(name, split="train", seed=0, limit=None, source="auto", data_dir=None):
    """The `Questions` of one split (cached; arrays read-only). `limit` keeps the first N questions
    (generating from the fewest scenes that give them: the questions of a scene prefix are a prefix)."""
    kinds.check_split(split, SPLITS)
    base = base_of(name)
    total = scenes.SPLITS[SCENE_SPLIT[split]]
    if limit is None:
        return _generate(base, split, int(seed), total, source, data_dir)
    count = min(total, -(-int(limit) // QUESTIONS_PER_SCENE) + 1)
    drawn = _generate(base, split, int(seed), count, source, data_dir)
    while len(drawn) < limit and count < total:
        count = min(total, 2 * count)
        drawn = _generate(base, split, int(seed), count, source, data_dir)
    keep = min(int(limit), len(drawn))
    used = int(drawn.scene[keep - 1]) + 1 if keep else 0
    cut = {field: getattr(drawn, field)[:keep] for field in PER_QUESTION}
    return _read_only(dataclasses.replace(drawn, images=drawn.images[:used], **cut))


def _candidates(classes, cells, small, nouns):
    """Every question a scene allows, per type: (answer word, named slot, answering slot, fill), slot
    −1 where no item."""
    at = {int(cell): slot for slot, cell in enumerate(cells) if cell >= 0}
    present = {int(classes[slot]): slot for slot in at.values()}
    what = [(nouns[classes[at[cell]]] if cell in at else "nothing", at.get(cell, -1), at.get(cell, -1),
             {"position": POSITIONS[cell]}) for cell in range(len(scenes.CELLS))]
    where, size, relational = [], [], []
    for cell, slot in at.items():
        noun = nouns[classes[slot]]
        where.append((POSITIONS[cell], slot, slot, {"noun": noun}))
        size.append(("small" if small[slot] else "large", slot, slot, {"noun": noun}))
        row, column = scenes.CELLS[cell]
        for relation, (dr, dc) in RELATIONS.items():
            neighbour = scenes.CELLS.index((row + dr, column + dc)) if (row + dr, column + dc) in scenes.CELLS else -1
            if neighbour in at:
                relational.append((nouns[classes[at[neighbour]]], slot, at[neighbour], {"noun": noun, "relation": relation}))
    exists = [("yes" if c in present else "no", present.get(c, -1), present.get(c, -1), {"noun": noun, "a": _article(noun)})
              for c, noun in enumerate(nouns)]
    count = [(COUNTS[len(at) - 2], -1, -1, {})]
    return [what, where, exists, count, size, relational]


@functools.lru_cache(maxsize=4)
def _generate(base, split, seed, count, source, data_dir):
    drawn = scenes.load(f"scenes_{base}", SCENE_SPLIT[split], seed, count, source, data_dir)
    nouns, answers_ = scenes.NOUNS[base], answer_words(base)
    answer_id = {w: i for i, w in enumerate(answers_)}
    allowed = [[[answer_id[w] for w in words] for words in group] for group in zip(type_answers(base), pair_answers(base))]
    compositional = split == "compositional"
    rng = np.random.default_rng([seed, SPLITS.index(split), 33])
    given = np.zeros((len(QUESTION_TYPES), 2, len(answers_)), np.int64)  # answers given so far: type, pair or not
    rows, debt, last = [], 0, scenes.SPLITS[SCENE_SPLIT[split]] - 1  # a row: scene, type, answer, slots, pair, phrasing, fill
    for n in range(len(drawn)):
        classes, cells = drawn.classes[n], drawn.cells[n]
        held = lambda slot: slot >= 0 and drawn.cells[n, slot] == held_out_cell(classes[slot])  # noqa: E731
        budget = QUESTIONS_PER_SCENE + debt
        candidates = _candidates(classes, cells, drawn.small[n], nouns)
        order = rng.permutation(len(QUESTION_TYPES))
        for t in order if n < last else np.concatenate([order, order]):  # the last scene pays any debt
            if budget == 0:
                break
            pool = [(answer_id[a], int(held(named) or held(answering)), named, answering, fill)
                    for a, named, answering, fill in candidates[t]]
            pool = [c for c in pool if c[1] == 0 or compositional and allowed[t][1]]
            if not pool:
                continue
            # least given answer first, balanced apart in questions with and without a held-out pair; pairs go first
            answer, pair = min(sorted({c[:2] for c in pool}), key=lambda c: (given[t, c[1], c[0]] - (SLACK - 1) * c[1], rng.random()))
            if given[t, pair, answer] - given[t, pair, allowed[t][pair]].min() >= SLACK and n < last:
                continue
            same = [c for c in pool if c[:2] == (answer, pair)]
            _, _, named, answering, fill = same[int(rng.integers(len(same)))]
            candidates[t] = [c for c in candidates[t] if c[1:] != (named, answering, fill)]  # not asked twice
            phrasings = len(PHRASINGS[QUESTION_TYPES[t]])
            phrasing = int(rng.integers(phrasings - 1)) if pair or not compositional else phrasings - 1
            rows.append((n, int(t), answer, named, answering, pair, phrasing, fill))
            given[t, pair, answer] += 1
            budget -= 1
        debt = budget
    texts = [PHRASINGS[QUESTION_TYPES[t]][p].format(**fill) for _, t, _, _, _, _, p, fill in rows]
    scene = np.array([r[0] for r in rows], np.int64)
    slots = np.array([r[3:5] for r in rows], np.int64).reshape(-1, 2)
    boxes = np.where(slots[..., None] >= 0, drawn.boxes[scene[:, None], slots], -1)
    words = tokens(base)
    ids = encode_questions(texts, words, MAX_QUESTION_LEN, "the question generator")
    return _read_only(Questions(
        drawn.images, scene, ids, np.array([r[2] for r in rows], np.int64),
        np.array([r[1] for r in rows], np.int64), boxes.astype(np.int64), np.array([r[5] for r in rows], bool),
        np.array([r[6] == len(PHRASINGS[QUESTION_TYPES[r[1]]]) - 1 for r in rows], bool), texts, words, answers_,
        list(QUESTION_TYPES)))


class SceneQuestions(kinds.Questions):
    def __init__(self, name):
        super().__init__(name)
        self.sources = sources.SOURCES[base_of(name)]

    def info(self):
        return info(self.name)

    def _load(self, split, seed, limit, source, data_dir):
        return load(self.name, split, seed, limit, source, data_dir)

    def vocabularies(self):
        info_ = self.info()
        return info_["tokens"], info_["answer_words"]


# --- CLEVR (TFDS, online) --------------------------------------------------------------------------

CLEVR_NAME = "vqa_clevr"
CLEVR_SIZE = 64  # images resized (aspect ratio not kept) to CLEVR_SIZE² RGB: colour is what half its questions ask
CLEVR_MAX_QUESTION_LEN = 48  # CLEVR's longest questions have about 45 words; longer ones are cut
CLEVR_SPLITS = {"train": 699_989, "test": 149_991}  # test: TFDS's validation split (its test split has no answers)
CLEVR_TFDS_SPLITS = {"train": "train", "test": "validation"}
CLEVR_TYPES = ("yes/no", "number", "attribute")  # by the answer: CLEVR's question families are not in TFDS


def clevr_info(size=CLEVR_SIZE):
    return {
        "name": CLEVR_NAME,
        "kind": "questions",
        "image_shape": (size, size, 3),
        "splits": dict(CLEVR_SPLITS),
        "max_question_len": CLEVR_MAX_QUESTION_LEN,
        "question_types": list(CLEVR_TYPES),
        "description": f"CLEVR v1.0 (Johnson et al. 2017; TFDS 'clevr', test = its validation split): rendered scenes "
        f"of 3-10 objects resized to {size}×{size} RGB, about 10 questions each, tokenised into the generated scenes' "
        "layout (question words of the training split, '<unk>' for others; answers of the training split). No boxes "
        "(−1). Online only: TFDS downloads 18 GB on first use.",
        "license": "CC BY 4.0",
    }


@functools.lru_cache(maxsize=2)
def _clevr_examples(split, size, limit, data_dir):
    """(images uint8 (S, size, size, 3), scene index, question texts, answer words) of the first
    `limit` images of a CLEVR split, in TFDS order."""
    import tensorflow as tf

    examples = sources.tfds_examples("clevr", CLEVR_TFDS_SPLITS[split], data_dir, limit, "offline, use the generated "
                                     "'vqa_scenes_fashion_mnist' or prepare the data elsewhere and pass data_dir.")
    images, scene, texts, answers = [], [], [], []
    for example in examples:
        resized = tf.image.resize(example["image"][..., :3], (size, size), antialias=True)
        for question, answer in zip(example["question_answer"]["question"], example["question_answer"]["answer"]):
            scene.append(len(images))
            texts.append(question.decode("utf-8"))
            answers.append(answer.decode("utf-8").strip().lower())
        images.append(np.clip(np.rint(resized.numpy()), 0, 255).astype(np.uint8))
    return (np.stack(images) if images else np.zeros((0, size, size, 3), np.uint8)), scene, texts, answers


def clevr_vocabularies(data_dir=None, size=CLEVR_SIZE):
    """(tokens: "<pad>", "<unk>", then the training questions' words sorted; answer words of the
    training split, sorted): the whole training split is read once for them (and cached)."""
    _, _, texts, answers = _clevr_examples("train", size, None, data_dir)
    return ["<pad>", "<unk>", *sorted({w for t in texts for w in question_words(t)})], sorted(set(answers))


def load_clevr(split="train", limit=None, data_dir=None, size=CLEVR_SIZE):
    """The `Questions` of a CLEVR split (the first `limit` questions; a test question whose answer the
    training split never gives is left out)."""
    kinds.check_split(split)
    words, answers_ = clevr_vocabularies(data_dir, size)
    images, scene, texts, answers = _clevr_examples(split, size, limit, data_dir)
    answer_id = {w: i for i, w in enumerate(answers_)}
    keep = [k for k, a in enumerate(answers) if a in answer_id][:limit]
    texts, images = [texts[k] for k in keep], images[: scene[keep[-1]] + 1 if keep else 0]
    kinds_ = [0 if answers[k] in ("yes", "no") else 1 if answers[k].isdigit() else 2 for k in keep]
    ids = encode_questions(texts, words, CLEVR_MAX_QUESTION_LEN, "CLEVR", truncate=True)  # the longest cut
    return _read_only(Questions(
        images, np.array([scene[k] for k in keep], np.int64), ids,
        np.array([answer_id[answers[k]] for k in keep], np.int64), np.array(kinds_, np.int64),
        np.full((len(keep), 2, 4), -1, np.int64), np.zeros(len(keep), bool), np.zeros(len(keep), bool), texts, words,
        answers_, list(CLEVR_TYPES)))


class Clevr(kinds.Questions):
    seeded = False
    splits = kinds.SPLITS
    sources = ("auto", "tfds")  # TFDS only

    def __init__(self, name=CLEVR_NAME, size=CLEVR_SIZE):
        super().__init__(name)
        self.size = size

    def info(self):
        return clevr_info(self.size)

    def _load(self, split, seed, limit, source, data_dir):
        return load_clevr(split, limit, data_dir, self.size)

    def vocabularies(self):
        return clevr_vocabularies(size=self.size)


DATASETS = [SceneQuestions(name) for name in NAMES] + [Clevr()]
