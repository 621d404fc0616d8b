"""zoo predict NAME|FILE.tflite INPUT: run a model (Keras, by name) or an exported file (LiteRT,
with NumPy and ai-edge-litert only: no TensorFlow) on one input; what INPUT is and what is printed
depend on the task (an exported file's task is the key of its sidecar FILE.tflite.json)."""

import json
from pathlib import Path

import numpy as np

from zoo.inputs import ImageTransform

HELP = ("classify or caption an image (.png/.jpg/.npy), answer a question about it, translate a text, generate "
        "images (DRAW), continue a text (language models) or write it by hand (stroke writers), with a model name or a "
        ".tflite file")


def add_arguments(parser):
    parser.add_argument("name", help="model name, or path to a .tflite file exported by `zoo export`")
    parser.add_argument("input", help="image file; the text for a translator, language model or stroke writer; the PNG "
                                      "to write for a generator")
    parser.add_argument("question", nargs="?", help="the question about the image, for question answerers (quoted)")
    parser.add_argument("--beam", type=int, default=1, help="beam size for translators and captioners (1: greedy)")
    parser.add_argument("--weights", default="default", help="a weights tag (zoo info NAME; default: the model's default)")
    parser.add_argument("--resize", action="store_true", help="resize the image to the model's input size")
    parser.add_argument("--top", type=int, default=3, help="classes to print")
    parser.add_argument("--samples", type=int, default=8, help="images a generator draws")
    parser.add_argument("--seed", type=int, default=0, help="seed of a generator's noise or a language model's sampling")
    parser.add_argument("--length", type=int, default=200, help="characters a language model adds")
    parser.add_argument("--temperature", type=float, default=0.8, help="a language model's sampling temperature (0: most likely)")
    parser.add_argument("--out", default="handwriting.png", help="the PNG a stroke writer draws its line to")
    parser.add_argument("--bias", type=float, default=0.5, help="a stroke writer's sampling bias (0: its own distribution; "
                                                                "larger: neater)")


def read_image(path, shape, resize):
    """An image file or .npy as float32 (1, H, W, C) in [0, 1] (`zoo.inputs.ImageTransform`)."""
    return ImageTransform(shape, resize, resize_hint="add --resize to scale it")(str(path))


def print_translation(result, text):
    print(result["text"])
    print(f"  log p = {result['score']:.4f}; alignment peaks: "
          + " ".join(f"{tok}←{text[int(np.argmax(a))]!r}" for tok, a in zip(result["tokens"], result["alignments"]) if len(text)))


def print_caption(result):
    print(result["text"])
    grid = result["attention"].shape[1:]
    peaks = [np.unravel_index(np.argmax(a), grid) for a in result["attention"]]
    print(f"  log p = {result['score']:.4f}; attention peak (row, column of the {grid[0]}×{grid[1]} grid) per word: "
          + " ".join(f"{w}@{int(r)},{int(c)}" for w, (r, c) in zip(result["words"], peaks)))


def print_answer(words, probabilities, maps):
    print(f"{words[0]}  ({100 * probabilities[0]:.2f}%)")
    grid = maps.shape[2:]
    peaks = [np.unravel_index(np.argmax(m), grid) for m in maps[0]]
    if peaks:
        print(f"  attention peak (row, column of the {grid[0]}×{grid[1]} grid) per hop: "
              + " ".join(f"hop {k + 1}@{int(r)},{int(c)}" for k, (r, c) in enumerate(peaks)))


def question(args):
    """The question of `zoo predict vqa IMAGE QUESTION`, or a one-line error asking for it."""
    if not args.question:
        raise SystemExit('a question answerer needs a question after the image: zoo predict vqa IMAGE "what is at the top left?"')
    return args.question


def print_classes(probs, names, top):
    for i in np.argsort(-probs)[:top]:
        print(f"{names[i]:>14}  {100 * probs[i]:6.2f}%")


def write_samples(images, path):
    """Generated images (n, H, W, 1) in [0, 1] as one PNG row, 2 px apart (PIL, no matplotlib)."""
    from PIL import Image

    from zoo.weights import atomic_path

    n, height, width = images.shape[:3]
    sheet = np.zeros((height, n * (width + 2) - 2), np.uint8)
    for i, image in enumerate(images):
        sheet[:, i * (width + 2) : i * (width + 2) + width] = np.round(255 * image[..., 0]).astype(np.uint8)
    with atomic_path(path) as tmp:
        Image.fromarray(sheet).save(tmp, format="PNG")
    print(f"wrote {n} generated images to {path}")


def write_line(result, path):
    """A written line (`write`'s result: strokes, the window φ) as a PNG (Pillow, no matplotlib), and
    whether the window reached the end of the text."""
    from PIL import Image

    from zoo.pictures import strokes_image
    from zoo.weights import atomic_path

    with atomic_path(path) as tmp:
        Image.fromarray(strokes_image(result["strokes"])).save(tmp, format="PNG")
    phi = result["phi"]
    where = (f"; the window ended on character {int(phi[-1].argmax()) + 1} of {phi.shape[1]}" if phi.size else "")
    print(f"wrote {result['text']!r} in {len(result['strokes'])} points to {path}{where}")


# A Keras model by task: what INPUT is and what is printed.
MODEL = {
    "classifier": lambda model, args: print_classes(
        np.asarray(model(read_image(args.input, model.image_shape, args.resize)))[0], model.class_names, args.top),
    "translator": lambda model, args: print_translation(model.translate([args.input], beam_size=args.beam)[0], args.input),
    "captioner": lambda model, args: print_caption(
        model.caption(read_image(args.input, model.image_shape, args.resize), beam_size=args.beam)[0]),
    "generator": lambda model, args: write_samples(model.generate(args.samples, seed=args.seed)[0][:, -1], args.input),
    "language_model": lambda model, args: print(args.input + model.complete(args.input, args.length, args.temperature, args.seed)),
    "question_answerer": lambda model, args: print_answer(*model.answer(
        read_image(args.input, model.image_shape, args.resize), [question(args)])),
    "stroke_writer": lambda model, args: write_line(model.write([args.input], bias=args.bias, seed=args.seed)[0], args.out),
}


def _lite_classifier(path, meta, args):
    from export.runtime import Runtime

    runtime = Runtime(path)
    shape = tuple(runtime.input_details["images"]["shape_signature"][1:])
    probs = runtime(images=read_image(args.input, shape, args.resize))["probabilities"][0]
    print_classes(probs, meta.get("class_names") or [str(i) for i in range(len(probs))], args.top)


def _lite_translator(path, meta, args):  # INPUT is the text to translate
    from export.seq2seq import Translator

    print_translation(Translator(path).translate([args.input], beam_size=args.beam)[0], args.input)


def _lite_captioner(path, meta, args):  # INPUT is an image to caption
    from export.captioner import Captioner

    image = read_image(args.input, tuple(meta["captioner"]["image_shape"]), args.resize)
    print_caption(Captioner(path).caption(image, beam_size=args.beam)[0])


def _lite_generator(path, meta, args):  # INPUT is the PNG to write
    from export.runtime import Runtime
    from zoo import decoding

    noise = decoding.standard_noise(args.samples, meta["generator"]["steps"], meta["generator"]["latent_dim"], args.seed)
    write_samples(Runtime(path)(noise=noise)["images"], args.input)


def _lite_language_model(path, meta, args):  # INPUT is the text to continue
    from export.runtime import Runtime
    from zoo import decoding

    tokens, context = meta["language_model"]["tokens"], meta["language_model"]["context"]
    runtime = Runtime(path)
    unknown = sorted(set(args.input) - set(tokens))
    if unknown:
        raise SystemExit(f"characters {unknown} are not in the model's vocabulary: {''.join(tokens)!r}")
    ids = [tokens.index(c) for c in args.input]
    pad = tokens.index("\n") if "\n" in tokens else 0
    print(args.input + decoding.continue_text(lambda w: runtime(ids=w)["probabilities"][0, -1], ids, tokens,
                                              context, pad, args.length, args.temperature, args.seed))


def _lite_question_answerer(path, meta, args):  # INPUT is the image, then the question
    from export.question_answerer import Answerer

    answerer = Answerer(path)
    print_answer(*answerer.answer(read_image(args.input, answerer.image_shape, args.resize), [question(args)]))


def _lite_stroke_writer(path, meta, args):  # INPUT is the text to write
    from export.stroke_writer import Writer

    write_line(Writer(path).write([args.input], bias=args.bias, seed=args.seed)[0], args.out)


# An exported file by the task its sidecar names (a classifier's sidecar names none).
LITE = {"translator": _lite_translator, "captioner": _lite_captioner, "generator": _lite_generator,
        "language_model": _lite_language_model, "question_answerer": _lite_question_answerer,
        "stroke_writer": _lite_stroke_writer}


def run(args):
    if args.name.endswith(".tflite"):
        if not Path(args.name).is_file():
            raise FileNotFoundError(f"{args.name}: no such file (zoo export writes MODEL.TAG[.QUANTIZE].tflite)")
        sidecar = Path(args.name + ".json")
        meta = json.loads(sidecar.read_text()) if sidecar.exists() else {}
        kind = next((task for task in LITE if task in meta), None)
        LITE.get(kind, _lite_classifier)(args.name, meta, args)
        return
    import zoo
    from zoo import registry

    MODEL[registry.task(args.name)](zoo.load(args.name, weights=args.weights), args)
