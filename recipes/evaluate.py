"""Evaluation: the only code that writes a model card's test metrics (classification error, exact
match for translators, BLEU and grounding for captioners, the variational bound for generators,
bits per character for language models, answer accuracy per question type and grounding per hop for
question answerers, the negative log-likelihood and OCR readability for stroke writers).

`zoo eval NAME --weights TAG --write` loads the weights the card names (sha256-checked),
runs the test split of the card's dataset, and stores the result and the command (`zoo.cards.Card.save`).
"""

import numpy as np

import zoo
from recipes import data
from recipes.data import scenes
from zoo import cards, registry, tasks
from zoo.models.base import cells_in_boxes
from zoo.tasks.classifier import MC_SAMPLES


def labelled_batches(dataset, split="test", batch_size=256, limit=None):
    """(inputs, labels) of a split, `batch_size` at a time: slices of the loaded arrays, or for a
    streamed dataset (too big to hold) of its chunks of 1,000 (`data.chunks`), never the split whole."""
    streamed = data.get(dataset).streamed
    parts = data.chunks(dataset, split, limit=limit) if streamed else [data.load_arrays(dataset, split, limit=limit)]
    for inputs, labels in parts:
        for start in range(0, len(inputs), batch_size):
            yield inputs[start : start + batch_size], labels[start : start + batch_size]


def evaluate(model, dataset, split="test", batch_size=256, limit=None):
    """Top-1 accuracy and error (percent) of a classifier on a dataset split (uint8 images are
    fed as float32 in [0, 1], float vectors as they are), batch by batch (`labelled_batches`)."""
    correct = examples = 0
    for inputs, labels in labelled_batches(dataset, split, batch_size, limit):
        probs = np.asarray(model(data.for_model(inputs), training=False))
        correct += int(np.sum(np.argmax(probs, -1) == labels))
        examples += len(labels)
    accuracy = 100.0 * correct / examples
    return {"accuracy": round(accuracy, 2), "error": round(100.0 - accuracy, 2), "examples": examples, "split": split}


LENGTH_BUCKETS = ((1, 10), (11, 15), (16, 20), (21, 25), (26, 30), (31, 40))


def glimpses_on_item(model, dataset, split="test", batch_size=256, limit=None):
    """Where RAM looks: the share (percent) of its glimpses, overall and at each step, whose centre
    (the deterministic path) lies inside the 28×28 box of the item (`data.item_boxes`)."""
    from layers.sampler import normalized_to_pixel

    boxes = data.item_boxes(dataset, split, limit=limit)
    hits, start = [], 0
    for images, _ in labelled_batches(dataset, split, batch_size, limit):
        _, attention = model(data.for_model(images), training=False, return_attention=True)
        locations = np.asarray(attention["locations"])  # (B, T, 2) as (x, y) in [−1, 1]
        x = normalized_to_pixel(locations[..., 0], images.shape[2])
        y = normalized_to_pixel(locations[..., 1], images.shape[1])
        top, left, bottom, right = (boxes[start : start + len(images), i, None] - 0.5 for i in range(4))  # pixel edges
        hits.append((y >= top) & (y < bottom) & (x >= left) & (x < right))
        start += len(images)
    hits = np.concatenate(hits)
    return round(100 * float(hits.mean()), 2), [round(100 * float(h), 1) for h in hits.mean(0)]


def evaluate_translation(translator, dataset, split="test", limit=None, beam_size=1):
    """Exact-match accuracy (percent) of `translator.translate` (a Keras `Seq2Seq` or an exported
    LiteRT `Translator`) on a text dataset split, overall and by source length in characters."""
    sources, targets = data.load_texts(dataset, split, limit=limit)
    outputs = translator.translate(sources, beam_size=beam_size)
    correct = np.array([out["text"] == target for out, target in zip(outputs, targets)])
    lengths = np.array([len(source) for source in sources])
    by_length = {}
    for low, high in LENGTH_BUCKETS:
        inside = (lengths >= low) & (lengths <= high)
        if inside.any():
            by_length[f"{low}-{high}"] = {"exact_match": round(100.0 * correct[inside].mean(), 2),
                                          "examples": int(inside.sum())}
    return {"exact_match": round(100.0 * correct.mean(), 2), "wrong": int((~correct).sum()), "examples": len(sources),
            "split": split, "beam_size": beam_size, "by_length": by_length}


def evaluate_captions(captioner, dataset, split="test", limit=None, beam_size=3):
    """Captions of a scene dataset split by `captioner.caption` (a Keras `ShowAttendTell` or an
    exported LiteRT `Captioner`), scored in percent: BLEU-1…4 against the 5 references (NLTK's
    corpus BLEU with brevity penalty, no smoothing); caption accuracy, the share of captions whose
    every claim is true and that name every item once (`scenes.check`); and attention grounding
    accuracy, the share of object words whose attention peak lies in that object's box, beside
    its ceiling on the grid (`scenes.grounded`; None for a model without attention)."""
    from nltk.translate.bleu_score import corpus_bleu

    drawn = data.load_scenes(dataset, split, limit=limit)
    outputs = captioner.caption(data.for_model(drawn.images), beam_size=beam_size)
    references = [[r.split() for r in refs] for refs in drawn.references]
    hypotheses = [out["words"] for out in outputs]
    metrics = {f"bleu{n}": round(100 * corpus_bleu(references, hypotheses, weights=(1 / n,) * n), 2) for n in range(1, 5)}
    summary = {"mean_words": round(float(np.mean([len(h) for h in hypotheses])), 2), "examples": len(outputs),
               "split": split, "beam_size": beam_size}
    if not hasattr(drawn, "objects"):  # COCO: no checkable claims, no box per word
        return {**metrics, **summary}
    correct = [scenes.check(out["text"], drawn.objects(i)) for i, out in enumerate(outputs)]
    metrics["caption_accuracy"] = round(100 * float(np.mean(correct)), 2)
    hits = np.array([h for i, out in enumerate(outputs) for h in scenes.grounded(out["text"], out["attention"],
                                                                                  drawn.objects(i))]).reshape(-1, 2)
    attends = any(out["attention"].any() for out in outputs) and len(hits)
    metrics["grounding_accuracy"] = round(100 * float(hits[:, 0].mean()), 2) if attends else None
    metrics["grounding_ceiling"] = round(100 * float(hits[:, 1].mean()), 2) if attends else None
    metrics["grounded_words"] = len(hits) if attends else 0
    return {**metrics, **summary}


def evaluate_generator(model, dataset, split="test", limit=None, batch_size=500, seed=0):
    """DRAW's test-set negative variational bound, in nats per image (an upper bound on −log p(x)):
    the mean of L^x + L^z, with the posterior noise of batch b drawn from (seed, b), so the number
    is the same on every run and backend."""
    images, _ = data.load_arrays(dataset, split, limit=limit)
    reconstruction, kl = [], []
    for b, start in enumerate(range(0, len(images), batch_size)):
        r, k = model.bound(data.for_model(images[start : start + batch_size]), seed=[seed, b])
        reconstruction.append(r)
        kl.append(k)
    reconstruction, kl = np.concatenate(reconstruction), np.concatenate(kl)
    return {"nll_bound": round(float(np.mean(reconstruction + kl)), 2), "reconstruction": round(float(reconstruction.mean()), 2),
            "kl": round(float(kl.mean()), 2), "examples": len(images), "split": split}


def evaluate_language_model(model, dataset, split="test", limit=None, batch_size=64):
    """Bits per character of a character language model on a corpus split: −log₂ p(c_{t+1} | c_≤t)
    averaged over every predicted character of the split's windows (each read from zero states),
    and next-character accuracy (percent)."""
    inputs, targets = data.load_arrays(dataset, split, limit=limit)
    bits, correct = 0.0, 0
    for start in range(0, len(inputs), batch_size):
        probs = np.asarray(model(data.for_model(inputs[start : start + batch_size]), training=False), np.float64)
        chosen = np.take_along_axis(probs, targets[start : start + batch_size, :, None], -1)[..., 0]
        bits -= float(np.sum(np.log2(np.maximum(chosen, 1e-300))))
        correct += int(np.sum(np.argmax(probs, -1) == targets[start : start + batch_size]))
    return {"bpc": round(bits / targets.size, 4), "accuracy": round(100.0 * correct / targets.size, 2),
            "characters": int(targets.size), "windows": len(inputs), "examples": len(inputs), "split": split}


def attention_peaks_inside(maps, boxes, canvas):
    """For each example: is the peak of its attention map (an (H′, W′) grid over a `canvas` (H, W)
    image) inside its box (y0, x0, y1, x1), end exclusive; boxes with y0 < 0 (no item) give False.
    The peak is the centre of its grid cell, in pixels (`cells_in_boxes`, which the attention
    targets of a supervised model read too)."""
    inside = np.asarray(cells_in_boxes(boxes, canvas, maps.shape[1:]))
    peak = np.argmax(maps.reshape(len(maps), -1), -1)
    return inside[np.arange(len(maps)), peak] > 0


def peaks_in_item(maps, drawn, slot):
    """(Q, hops) bool: is each hop's attention peak (maps (Q, hops, H′, W′)) inside the box of the
    question's item `slot` (0: the item it names, 1: the item holding its answer) of a
    `vqa.Questions` split; False where the question has no such item."""
    canvas = drawn.images.shape[1:3]
    return np.stack([attention_peaks_inside(maps[:, hop], drawn.boxes[:, slot], canvas) for hop in range(maps.shape[1])], 1)


def answer_questions(model, drawn, batch_size=256):
    """(predicted answer ids (Q,), attention maps (Q, hops, H′, W′) or None without hops) of `model` on a
    `vqa.Questions` split, batch by batch (images looked up per question)."""
    predictions, maps = [], []
    for start in range(0, len(drawn.answers), batch_size):
        inputs = {name: data.for_model(values) for name, values in drawn.inputs(slice(start, start + batch_size)).items()}
        probabilities, attention = model(inputs, training=False, return_attention=True)
        predictions.append(np.argmax(np.asarray(probabilities), -1))
        maps.append(np.asarray(attention))
    maps = np.concatenate(maps)
    return np.concatenate(predictions), (maps if maps.shape[1] else None)


def question_metrics(model, drawn):
    """Answer accuracy (percent) of a split, overall and per question type; with attention, the
    grounding of every hop: the share of questions naming an item whose attention peak lies in the
    named item (`named_by_hop`) and in the item holding the answer (`answer_by_hop`); the headline
    `grounding_accuracy` is the last hop's peak in the answer's item."""
    predicted, maps = answer_questions(model, drawn)
    correct = predicted == drawn.answers
    per_type = {name: round(100 * float(correct[drawn.types == t].mean()), 2)
                for t, name in enumerate(drawn.question_types) if (drawn.types == t).any()}
    metrics = {"accuracy": round(100 * float(correct.mean()), 2), "per_type": per_type, "examples": len(correct)}
    if maps is None:
        return {**metrics, "grounding_accuracy": None}
    grounding = {}
    for which, k in (("named", 0), ("answer", 1)):
        on = peaks_in_item(maps, drawn, k)[drawn.boxes[:, k, 0] >= 0]
        grounding[f"{which}_by_hop"] = [round(100 * float(share), 2) for share in on.mean(0)]
    return {**metrics, "grounding_accuracy": grounding["answer_by_hop"][-1], "grounding": grounding}


def evaluate_questions(model, dataset, split="test", limit=None):
    """A question answerer on a question dataset: accuracy per type and grounding per hop
    (`question_metrics`) on `split`, and, for the test split, the same on the compositional split
    (class–position pairs and phrasings never seen in training) as `compositional_*`."""
    metrics = {**question_metrics(model, data.load_questions(dataset, split, limit=limit)), "split": split}
    if split == "test":
        other = question_metrics(model, data.load_questions(dataset, "compositional", limit=limit))
        metrics.update(compositional_accuracy=other["accuracy"], compositional_per_type=other["per_type"],
                       compositional_grounding_accuracy=other["grounding_accuracy"],
                       compositional_examples=other["examples"])
    return metrics


def evaluate_strokes(model, dataset, split="test", limit=None, batch_size=64):
    """A stroke writer's test negative log-likelihood L (Graves 2013, eq. 26) under teacher forcing:
    nats per sequence (the mean over the split's lines) and per point (Σ L / Σ points). Lines go in
    batches of similar length (sorted), each padded to its longest only (padding is not scored)."""
    drawn = data.load_strokes(dataset, split, limit=limit)
    order = np.argsort(drawn.lengths, kind="stable")
    nll = points = 0.0
    for start in range(0, len(order), batch_size):
        out = model(drawn.inputs(order[start : start + batch_size]), training=False)
        nll += float(np.sum(np.asarray(out["nll"], np.float64)))
        points += float(np.sum(np.asarray(out["points"], np.float64)))
    return {"nll": round(nll / len(order), 2), "nll_per_point": round(nll / points, 4), "examples": len(order),
            "split": split}


READABILITY_LINES = 200  # test lines written and read by OCR (recipes/ocr.py measured its ground truth on 200)
READABILITY_BIAS = 1.0  # Graves' sampling bias for those lines (b = 0: the model's own distribution)


def readability(model, dataset, split="test", limit=READABILITY_LINES, bias=READABILITY_BIAS, batch_size=100):
    """Whether the written lines can be read: Tesseract's character error rate (`recipes.ocr`, percent)
    on the split's first `limit` texts written by `model.write` (bias b, seed 0) beside its CER on the
    ground-truth strokes of the same texts; the share of writing steps at which the window's argmax
    character does not move back (`window_monotone_percent`) and of lines that stopped by the window
    passing the last character before 40 points a character (`stopped_percent`); None for both
    without a window."""
    from recipes import ocr

    drawn = data.load_strokes(dataset, split, limit=limit)
    written, stopped = [], []
    for start in range(0, len(drawn), batch_size):
        texts = drawn.texts[start : start + batch_size]
        max_steps = 40 * max(map(len, texts))
        written += model.write(texts, bias=bias, seed=start, max_steps=max_steps)
        stopped += [len(w["strokes"]) < max_steps for w in written[-len(texts):]]
    moves = [np.diff(w["phi"].argmax(1)) >= 0 for w in written if w["phi"].shape[1] and len(w["phi"]) > 1]
    windowed = bool(model.conditional)
    return {
        "cer": round(ocr.strokes_error_rate([w["strokes"] for w in written], drawn.texts), 2),
        "cer_ground_truth": round(ocr.strokes_error_rate(drawn.strokes, drawn.texts), 2),
        "window_monotone_percent": round(100 * float(np.concatenate(moves).mean()), 2) if windowed and moves else None,
        "stopped_percent": round(100 * float(np.mean(stopped)), 2) if windowed else None,
        "readability_bias": bias, "readability_examples": len(drawn),
    }


# Per task, its test metrics in one pass (what export checks measure, `recipes.testset`); the
# card's full evaluation adds a second decoding (`SECOND_DECODING`), its quick check uses `CHECKS`.
TEST_METRICS = {
    "classifier": lambda model, dataset, split, limit: evaluate(model, dataset, split, limit=limit),
    "language_model": evaluate_language_model,
    "translator": evaluate_translation,
    "captioner": evaluate_captions,  # beam 3
    "generator": evaluate_generator,
    "question_answerer": evaluate_questions,
    "stroke_writer": evaluate_strokes,  # NLL only; the OCR readability runs with the card's evaluation (EXTRAS)
}
SECOND_DECODING = {
    "translator": lambda model, dataset, split, limit: {
        "exact_match_beam3": evaluate_translation(model, dataset, split, limit, beam_size=3)["exact_match"]},
    "captioner": lambda model, dataset, split, limit: {"greedy": {
        k: v for k, v in evaluate_captions(model, dataset, split, limit, beam_size=1).items()
        if k in tasks.get("captioner").check_keys}},
}
# Per task, what the card's evaluation adds beyond TEST_METRICS (`evaluate_record`).
EXTRAS = {"stroke_writer": lambda model, dataset, split, limit: readability(
    model, dataset, split, min(limit or READABILITY_LINES, READABILITY_LINES))}
CHECKS = {**TEST_METRICS, "captioner": lambda model, dataset, split, limit: evaluate_captions(model, dataset, split, limit,
                                                                                            beam_size=1)}
CHECK_EXAMPLES = 1000  # the card's quick reproduction, recomputed by tests/recipes/test_cards.py


def evaluate_model(model, dataset, split="test", limit=None):
    """The card's test metrics: top-1 error for classifiers (images, parity vectors); exact match
    (greedy, by length, and with beam size 3) for translators; BLEU, caption and grounding
    accuracy (beam 3, and greedy) for captioners; the negative variational bound for generators;
    bits per character for language models; accuracy and grounding on the test and compositional
    splits for question answerers; the negative log-likelihood for stroke writers."""
    task = registry.task(model)
    metrics = TEST_METRICS[task](model, dataset, split, limit)
    if task in SECOND_DECODING:
        metrics.update(SECOND_DECODING[task](model, dataset, split, limit))
    return metrics


def check_metrics(model, dataset, split="test"):
    """The card's quick reproduction on the first CHECK_EXAMPLES examples (windows, for language
    models) of the test split: the task's `check_keys` (greedy decoding for captioners and
    translators, the deterministic glimpse path for RAM). Cheap enough for every CI run; `zoo eval`
    reproduces the full split."""
    task = registry.task(model)
    metrics = CHECKS[task](model, dataset, split, CHECK_EXAMPLES)
    return {"examples": metrics["examples"], **{k: metrics[k] for k in tasks.get(task).check_keys if k in metrics}}


def evaluate_record(name, tag="default", write=False, limit=None):
    """Evaluate the pretrained weights `name:tag` on the card's test split; optionally write the card."""
    if write and limit:
        raise ValueError("refusing to write card metrics measured on a subset (--limit)")
    rec = registry.record(name, tag)
    model = zoo.load(name, weights=rec["tag"])
    metrics = evaluate_model(model, rec["data"]["dataset"], rec["data"]["test_split"], limit=limit)
    if name == "ram" and not rec["config"].get("random_glimpses"):  # the paper's Monte-Carlo test averaging
        averaged = zoo.load(name, weights=rec["tag"], mc_samples=MC_SAMPLES)
        mc = evaluate(averaged, rec["data"]["dataset"], rec["data"]["test_split"], limit=limit)
        metrics[f"error_mc{MC_SAMPLES}"] = mc["error"]
    if name == "ram":
        metrics["glimpses_on_item"], metrics["glimpses_on_item_by_step"] = glimpses_on_item(
            model, rec["data"]["dataset"], rec["data"]["test_split"], limit=limit)
    if registry.task(name) in EXTRAS:
        metrics.update(EXTRAS[registry.task(name)](model, rec["data"]["dataset"], rec["data"]["test_split"], limit))
    if write:
        metrics["check"] = check_metrics(model, rec["data"]["dataset"], rec["data"]["test_split"])
        card = cards.get(name, rec["tag"])
        card.metrics, card.eval_command = metrics, f"zoo eval {name} --weights {rec['tag']} --write"
        card.save()
    return metrics
