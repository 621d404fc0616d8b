"""Attention pictures: what each model looked at, drawn on its inputs (PNG, written atomically)."""

import numpy as np

from zoo.weights import atomic_path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _title(ax, model, probabilities, label):
    """Title an image with its predicted class; red, with the true class, when it is wrong."""
    predicted = int(np.argmax(probabilities))
    wrong = label is not None and int(label) != predicted
    title = model.class_names[predicted] + (f" (true: {model.class_names[int(label)]})" if wrong else "")
    ax.set_title(title, fontsize=8, color="red" if wrong else "black")


def _save(fig, path, dpi=110):
    """Write the figure as PNG atomically and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    _pyplot().close(fig)
    return path


def transformer_picture(model, images, labels, path, columns=4):
    """For each image: the input with the transformer's sampling region outlined, beside its output V.

    The outline is the border of the sampling grid T_θ(G) mapped back to input pixels; the
    title gives the prediction (and the true class when it differs).
    """
    from layers.sampler import normalized_to_pixel

    probs, attention = model(images, return_attention=True)
    probs, grids = np.asarray(probs), np.asarray(attention["grid"])
    transformed = np.asarray(attention["transformed"])
    height, width = images.shape[1:3]
    rows = int(np.ceil(len(images) / columns))
    plt = _pyplot()
    fig, axes = plt.subplots(rows, 2 * columns, figsize=(2.2 * 2 * columns, 2.4 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, image in enumerate(images):
        left, right = axes[i // columns, 2 * (i % columns)], axes[i // columns, 2 * (i % columns) + 1]
        left.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
        g = grids[i]
        border = np.concatenate([g[0, :], g[:, -1], g[-1, ::-1], g[::-1, 0]])
        left.plot(normalized_to_pixel(border[:, 0], width), normalized_to_pixel(border[:, 1], height), "r-", lw=1.2)
        left.set_xlim(-0.5, width - 0.5)
        left.set_ylim(height - 0.5, -0.5)
        _title(left, model, probs[i], None if labels is None else labels[i])
        right.imshow(transformed[i, ..., 0], cmap="gray", vmin=0, vmax=1)
        right.set_title("transformed", fontsize=8)
    fig.suptitle("Spatial Transformer: input with sampling grid (red) → transformer output", fontsize=10)
    fig.tight_layout()
    return _save(fig, path, dpi=110)


def predictions_picture(model, images, labels, path, columns=8):
    """Inputs with predicted classes, for models without an attention map (the CNN baseline)."""
    probs = np.asarray(model(images))
    rows = int(np.ceil(len(images) / columns))
    plt = _pyplot()
    fig, axes = plt.subplots(rows, columns, figsize=(1.8 * columns, 2.0 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, image in enumerate(images):
        ax = axes[i // columns, i % columns]
        ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
        _title(ax, model, probs[i], None if labels is None else labels[i])
    fig.tight_layout()
    return _save(fig, path, dpi=110)


def _show_steps(axes, pictures, label, first_row):
    """One grey picture per step along a row of axes, each scaled to its own maximum; titled
    "`label` t" on the first row."""
    for t, (ax, picture) in enumerate(zip(axes, pictures)):
        ax.imshow(picture, cmap="gray", vmin=0, vmax=max(float(picture.max()), 1e-6))
        if first_row:
            ax.set_title(f"{label} {t + 1}", fontsize=8)


def glimpse_picture(model, images, labels, path, rows=6):
    """RAM: each image with its glimpse path (boxes of the finest and coarsest patch, numbered),
    then every glimpse's k patches side by side, fine to coarse."""
    from layers.sampler import normalized_to_pixel

    images = images[:rows]
    probs, attention = model(images, return_attention=True)
    probs, locations = np.asarray(probs), np.asarray(attention["locations"])
    patches = np.asarray(attention["patches"])  # (B, T, k, g, g, C)
    steps, scales, size = patches.shape[1], patches.shape[2], patches.shape[3]
    height, width = images.shape[1:3]
    plt = _pyplot()
    from matplotlib.patches import Rectangle

    fig, axes = plt.subplots(len(images), steps + 1, figsize=(2.6 + 1.1 * scales * steps * 0.55, 2.5 * len(images)),
                             squeeze=False, gridspec_kw={"width_ratios": [2.2] + [0.55 * scales] * steps})
    for ax in axes.ravel():
        ax.axis("off")
    for i, image in enumerate(images):
        ax = axes[i, 0]
        ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
        xs = normalized_to_pixel(locations[i, :, 0], width)
        ys = normalized_to_pixel(locations[i, :, 1], height)
        ax.plot(xs, ys, "-", color="yellow", lw=1)
        for t, (x, y) in enumerate(zip(xs, ys)):
            for s, colour in ((0, "lime"), (scales - 1, "red")):
                side = size * 2**s
                ax.add_patch(Rectangle((x - side / 2, y - side / 2), side, side, fill=False, ec=colour, lw=0.8))
            ax.text(x, y, str(t + 1), color="yellow", fontsize=7, ha="center", va="center")
        ax.set_xlim(-0.5, width - 0.5)
        ax.set_ylim(height - 0.5, -0.5)
        _title(ax, model, probs[i], None if labels is None else labels[i])
        strips = [np.concatenate([patches[i, t, s, ..., 0] for s in range(scales)], axis=1) for t in range(steps)]
        _show_steps(axes[i, 1:], strips, "glimpse", first_row=i == 0)
    fig.suptitle("RAM: glimpse path (green: finest patch, red: coarsest) and each glimpse's patches, fine → coarse",
                 fontsize=10)
    fig.tight_layout()
    return _save(fig, path, dpi=100)


def filterbank_box(ax, centre, stride, N, colour, label=None, lw=0.9):
    """Outline the N × N filterbank grid of (1-based) `centre` (x, y) and `stride`: the square
    of side N·δ around the filter means, in `imshow`'s 0-based pixel coordinates."""
    from matplotlib.patches import Rectangle

    side, (x, y) = N * stride, (centre[0] - 1, centre[1] - 1)
    ax.add_patch(Rectangle((x - side / 2, y - side / 2), side, side, fill=False, ec=colour, lw=lw))
    if label is not None:
        ax.text(x, y, label, color=colour, fontsize=7, ha="center", va="center")


def read_picture(model, images, labels, path, rows=6):
    """DRAW classifier: each image with the grid of every read (numbered, yellow → red), then
    every N × N glimpse."""
    images = images[:rows]
    probs, attention = model(images, return_attention=True)
    probs, glimpses = np.asarray(probs), np.asarray(attention["glimpses"])
    centres, strides = np.asarray(attention["centre"]), np.asarray(attention["stride"])
    steps, N = glimpses.shape[1], glimpses.shape[2]
    height, width = images.shape[1:3]
    plt = _pyplot()
    colours = plt.get_cmap("autumn_r")(np.linspace(0.15, 1, steps))
    fig, axes = plt.subplots(len(images), steps + 1, figsize=(2.6 + 1.0 * steps, 2.5 * len(images)), squeeze=False,
                             gridspec_kw={"width_ratios": [2.2] + [1.0] * steps})
    for ax in axes.ravel():
        ax.axis("off")
    for i, image in enumerate(images):
        ax = axes[i, 0]
        ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
        for t in range(steps):
            filterbank_box(ax, centres[i, t], strides[i, t], N, colours[t], label=str(t + 1))
        ax.set_xlim(-0.5, width - 0.5)
        ax.set_ylim(height - 0.5, -0.5)
        _title(ax, model, probs[i], None if labels is None else labels[i])
        _show_steps(axes[i, 1:], glimpses[i, ..., 0], "read", first_row=i == 0)
    fig.suptitle("DRAW classifier: the read grid of every glimpse (numbered, yellow → red) and what it read",
                 fontsize=10)
    fig.tight_layout()
    return _save(fig, path, dpi=100)


def drawing_picture(model, path, samples=8, columns=8, seed=0):
    """DRAW generating: each row one new image (noise from `seed`), each column the canvas σ(c_t)
    at one of `columns` steps spread over 1 … T, with that step's write grid in red (attention)."""
    canvases, writes = model.generate(samples, seed=seed)
    steps = canvases.shape[1]
    shown = np.unique(np.linspace(0, steps - 1, columns).round().astype(int))
    height, width = canvases.shape[2:4]
    plt = _pyplot()
    fig, axes = plt.subplots(samples, len(shown), figsize=(1.25 * len(shown), 1.3 * samples + 0.4), squeeze=False)
    for i in range(samples):
        for j, t in enumerate(shown):
            ax = axes[i, j]
            ax.axis("off")
            ax.imshow(canvases[i, t, ..., 0], cmap="gray", vmin=0, vmax=1)
            if writes:
                filterbank_box(ax, writes["centre"][i, t], writes["stride"][i, t], model.write_size, "red", lw=1.0)
                ax.set_xlim(-0.5, width - 0.5)
                ax.set_ylim(height - 0.5, -0.5)
            if i == 0:
                ax.set_title(f"t = {t + 1}", fontsize=8)
    kind = f"write {model.write_size}×{model.write_size} (red)" if writes else "no attention"
    fig.suptitle(f"DRAW generating {samples} images over {steps} steps, {kind}", fontsize=9)
    fig.tight_layout()
    return _save(fig, path, dpi=100)


def drawing_animation(model, path, samples=16, columns=4, seed=0, scale=3, frame_ms=80):
    """An animated GIF of DRAW generating a grid of images, one frame per step, the write grid
    outlined in red (attention models); the last frame is held. Written atomically."""
    from PIL import Image, ImageDraw

    canvases, writes = model.generate(samples, seed=seed)
    steps, height, width = canvases.shape[1:4]
    rows = -(-samples // columns)
    frames = []
    for t in range(steps):
        sheet = np.zeros((rows * (height + 2), columns * (width + 2)), np.uint8)
        for i in range(samples):
            r, c = divmod(i, columns)
            sheet[r * (height + 2) + 1 : r * (height + 2) + 1 + height,
                  c * (width + 2) + 1 : c * (width + 2) + 1 + width] = (255 * canvases[i, t, ..., 0]).astype(np.uint8)
        frame = Image.fromarray(sheet).resize((sheet.shape[1] * scale, sheet.shape[0] * scale), Image.NEAREST)
        frame = frame.convert("RGB")
        if writes:
            pen = ImageDraw.Draw(frame)
            for i in range(samples):
                r, c = divmod(i, columns)
                (x, y), half = writes["centre"][i, t] - 1, model.write_size * writes["stride"][i, t] / 2
                left, top = c * (width + 2) + 1 + x - half + 0.5, r * (height + 2) + 1 + y - half + 0.5
                pen.rectangle([left * scale, top * scale, (left + 2 * half) * scale, (top + 2 * half) * scale],
                              outline=(255, 40, 40))
        frames.append(frame)
    with atomic_path(path) as tmp:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:] + [frames[-1]] * 10,
                       duration=frame_ms, loop=0)
    return path


def alignment_picture(results, references, path, title="", columns=3):
    """Alignment matrices α (output tokens × source tokens) of translations, the paper's figure.

    `results` are `translate` outputs (with the source `text` as `source`), `references` the
    correct outputs; a wrong translation is titled in red with the reference.
    """
    plt = _pyplot()
    rows = -(-len(results) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 2.6 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, result, reference in zip(axes.flat, results, references):
        alpha, source, output = result["alignments"], list(result["source"]), result["tokens"] + ["</s>"]
        ax.axis("on")
        ax.imshow(alpha[: len(output)], cmap="gray_r", vmin=0, vmax=max(float(alpha.max()), 1e-6), aspect="auto")
        ax.set_xticks(range(len(source)), [c if c != " " else "␣" for c in source], fontsize=7)
        ax.set_yticks(range(len(output[: len(alpha)])), output[: len(alpha)], fontsize=7)
        wrong = result["text"] != reference
        ax.set_title(f"{result['text']}" + (f" (true: {reference})" if wrong else ""), fontsize=8,
                     color="red" if wrong else "black")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def by_length_picture(curves, path, title=""):
    """Exact match against source length, one line per model: {label: {"lo-hi": percent}}."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for label, by_length in curves.items():
        buckets = list(by_length)
        ax.plot(range(len(buckets)), [by_length[b] for b in buckets], marker="o", label=label,
                linestyle="--" if label.endswith("none") else "-")
        ax.set_xticks(range(len(buckets)), buckets)
    ax.set_xlabel("source length (characters)")
    ax.set_ylabel("test exact match (%)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def parity_accuracy_picture(records, path):
    """Test accuracy against k for each k-bit parity network (the paper's parity figure), from the
    cards' measured metrics: `records` are grid_lstm weight records; those without metrics are
    skipped. One line per kind (tied 1-LSTM, tied ReLU FFN, …), labelled with its parameter count."""
    curves = {}
    for rec in records:
        metrics, config = rec.get("metrics") or {}, rec["config"]
        if "accuracy" not in metrics or not rec["data"]["dataset"].startswith("parity_"):
            continue
        kind = ("tied " if config.get("tied", True) else "untied ") + (
            "1-LSTM" if config["cell"] == "lstm" else f"{config['cell']} FFN")
        label = f"{kind}, width {config['units']}, depth {config['depth']}"
        curves.setdefault(label, []).append((config["bits"], metrics["accuracy"], rec["parameters"]))
    if not curves:
        raise ValueError("no parity record has measured metrics: run `zoo eval grid_lstm --weights TAG --write` first")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, points in sorted(curves.items()):
        points.sort()
        ks, accuracy, parameters = zip(*points)
        ax.plot(ks, accuracy, "o-", label=f"{label} ({min(parameters):,}–{max(parameters):,} params)")
    ax.axhline(100, color="grey", lw=0.5, ls=":")
    ax.set_xlabel("k (input bits)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(40, 102)
    ax.set_title("k-bit parity, all bits at once (Kalchbrenner et al. 2015)", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return _save(fig, path)


def sample_efficiency_picture(results, path):
    """Test accuracy against training samples on Grid LSTM's sequence tasks (one panel a task):
    answer symbols right (solid) and whole answers right (dashed), per network, from the results
    `recipes.sample_efficiency` writes."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 3.6), squeeze=False)
    for ax, result in zip(axes[0], results):
        for (name, model), color in zip(result["models"].items(), ("C0", "C1", "C2")):
            samples, exact, symbols = zip(*model["curve"])
            label = f"{name} ({model['config']['depth']} × {model['config']['units']}, {model['parameters']:,} params)"
            ax.plot(samples, symbols, "-", color=color, label=f"{label}: answer symbols")
            ax.plot(samples, exact, "--", color=color, label=f"{name}: whole answers")
        ax.axhline(result["threshold"], color="grey", lw=0.5, ls=":")
        ax.set_xlabel("training samples")
        ax.set_ylabel("test accuracy (%)")
        ax.set_ylim(0, 102)
        ax.set_title(f"{result['task']}: {result['description']}", fontsize=8)
        ax.legend(fontsize=6, loc="upper left")
    fig.tight_layout()
    return _save(fig, path)


def caption_picture(images, results, path, references=None, title="", per_row=11):
    """Show-Attend-Tell's figure: for each image, its caption and, word by word, the attention
    map α (upsampled over the image, bright = attended) at the step that emitted the word.

    `results` are `caption` outputs; with `references` (a list of reference captions per image),
    a caption that is none of them is written in orange with the first reference."""
    plt = _pyplot()
    blocks = [-(-(len(r["words"]) + 2) // per_row) for r in results]  # image + words + </s>
    ratios = [h for b in blocks for h in [0.32] + [1.0] * b]
    fig = plt.figure(figsize=(1.2 * per_row, 1.3 * sum(ratios) + 0.4))
    grid = fig.add_gridspec(len(ratios), per_row, height_ratios=ratios)
    height, width = images.shape[1:3]
    row = 0
    for image, result, refs in zip(images, results, references if references is not None else [None] * len(images)):
        text = fig.add_subplot(grid[row, :])
        text.axis("off")
        known = refs is None or result["text"] in refs
        text.text(0, 0.5, result["text"] + ("" if known else f"   (a reference: {refs[0]})"), fontsize=8, va="center",
                  color="black" if known else "darkorange")
        cells = [fig.add_subplot(grid[r, c]) for r in range(row + 1, row + 1 + -(-(len(result["words"]) + 2) // per_row))
                 for c in range(per_row)]
        row += 1 + len(cells) // per_row
        for ax in cells:
            ax.axis("off")
        cells[0].imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
        cells[0].set_title("image", fontsize=8)
        for ax, word, alpha in zip(cells[1:], result["words"] + ["</s>"], result["attention"]):
            ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
            ax.imshow(alpha, cmap="inferno", alpha=0.55, interpolation="bilinear",
                      extent=(-0.5, width - 0.5, height - 0.5, -0.5), vmin=0, vmax=max(float(alpha.max()), 1e-6))
            ax.set_title(word, fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(left=0.01, right=0.99, top=1 - 0.5 / fig.get_figheight(), bottom=0.01, hspace=0.35, wspace=0.05)
    return _save(fig, path, dpi=90)


def surprisal_picture(model, inputs, targets, path, prompt_chars=60, sample_chars=120):
    """A character language model read aloud: each row a test window (its `targets`, the characters
    that follow `inputs`), every character shaded by its surprisal −log₂ p(c_t | c_<t) (white 0 bits
    … dark red ≥ 8), the window's BPC in its title; under them a continuation sampled (temperature
    0.8) after the first window's first `prompt_chars`."""
    plt = _pyplot()
    inputs, targets = np.asarray(inputs), np.asarray(targets)
    probs = np.asarray(model(inputs))
    bits = -np.log2(np.take_along_axis(probs, targets[..., None], -1)[..., 0])
    width = 100
    lines = [(model.decode(row), b) for row, b in zip(targets, bits)]
    rows = sum(-(-len(text) // width) for text, _ in lines) + 4
    fig, ax = plt.subplots(figsize=(13, 0.28 * rows + 0.6))
    ax.set_xlim(0, width)
    ax.set_ylim(rows, 0)
    ax.axis("off")
    cmap = plt.get_cmap("Reds")
    y = 0
    for n, (text, b) in enumerate(lines):
        ax.text(0, y + 0.5, f"test window {n + 1}: {b.mean():.2f} bits per character", fontsize=7, color="grey", va="center")
        y += 1
        for k, (c, s) in enumerate(zip(text, b)):
            row, col = divmod(k, width)
            ax.add_patch(plt.Rectangle((col, y + row), 1, 1, color=cmap(min(s / 8.0, 1.0)), lw=0))
            ax.text(col + 0.5, y + row + 0.55, "↵" if c == "\n" else c, fontsize=7, family="monospace", ha="center", va="center")
        y += -(-len(text) // width)
    prompt = model.decode(inputs[0, :prompt_chars])
    sample = model.complete(prompt, sample_chars, temperature=0.8, seed=0)
    ax.text(0, y + 0.7, "sampled (T = 0.8) after the first window's start:", fontsize=7, color="grey", va="center")
    ax.text(0, y + 1.8, (prompt + "|" + sample).replace("\n", "↵"), fontsize=7, family="monospace", va="center", wrap=True)
    ax.set_title(f"{model.name}: surprisal per character (darker = more bits)", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def question_picture(images, questions, answers, confidence, maps, path, title="", wrap=34):
    """Stacked attention's figure: one row per image, the image under its question and answer
    (with its probability), then each hop's attention map p_I (upsampled over the image, bright =
    attended). `maps` (Q, hops, gh, gw); with no hops, the images alone."""
    import textwrap

    plt = _pyplot()
    hops = maps.shape[1]
    fig, axes = plt.subplots(len(images), 1 + hops, figsize=(2.2 * (1 + hops), 2.6 * len(images) + 0.4), squeeze=False)
    height, width = images.shape[1:3]
    for row, (image, question, answer, p, hop_maps) in enumerate(zip(images, questions, answers, confidence, maps)):
        for ax in axes[row]:
            ax.axis("off")
            ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=1)
        axes[row, 0].set_title(f"{textwrap.fill(question, wrap)}\n→ {answer} ({p:.2f})", fontsize=8)
        for k, (ax, alpha) in enumerate(zip(axes[row, 1:], hop_maps), 1):
            ax.imshow(alpha, cmap="inferno", alpha=0.55, interpolation="bilinear",
                      extent=(-0.5, width - 0.5, height - 0.5, -0.5), vmin=0, vmax=max(float(alpha.max()), 1e-6))
            ax.set_title(f"hop {k}", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path, dpi=90)


def strokes_image(strokes, height=64, thickness=2.0, margin=4, max_width=2048, supersample=4):
    """A written line as a uint8 (height, width) image, black ink on white: the pen path of rows
    (Δx, Δy, end of stroke) (points = cumulative sums, y upwards; the pen lifts after a row whose end
    of stroke is 1), scaled to fit `height` (and `max_width`) within `margin` pixels, drawn
    `thickness` pixels wide with round joints at `supersample`× and box-filtered down. NumPy and
    Pillow only."""
    from PIL import Image, ImageDraw

    strokes = np.asarray(strokes, dtype=np.float64)
    if strokes.ndim != 2 or strokes.shape[1] != 3:
        raise ValueError(f"expected strokes of shape (T, 3) (Δx, Δy, end of stroke); got shape {strokes.shape}")
    points = np.cumsum(strokes[:, :2], axis=0) * [1, -1]  # image rows grow downwards
    low = points.min(axis=0) if len(points) else np.zeros(2)
    extent = points.max(axis=0) - low if len(points) else np.zeros(2)
    scale = min((height - 2 * margin) / max(extent[1], 1e-9), (max_width - 2 * margin) / max(extent[0], 1e-9))
    width = int(np.ceil(extent[0] * scale)) + 2 * margin
    canvas = Image.new("L", (width * supersample, height * supersample), 255)
    draw, pen = ImageDraw.Draw(canvas), thickness * supersample
    xy = ((points - low) * scale + [margin, margin + (height - 2 * margin - extent[1] * scale) / 2]) * supersample
    starts = np.concatenate([[0], np.flatnonzero(strokes[:-1, 2] > 0.5) + 1])
    for start, end in zip(starts, np.append(starts[1:], len(points))):
        path = [tuple(p) for p in xy[start:end]]
        if len(path) > 1:
            draw.line(path, fill=0, width=max(1, round(pen)), joint="curve")
        for x, y in path[:1] + path[-1:]:  # round caps (and dots: one-point strokes)
            draw.ellipse([x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2], fill=0)
    return np.asarray(canvas.resize((width, height), Image.BOX))


def pen_paths(strokes):
    """The pen's polylines of offsets (T, 3) (Δx, Δy, end of stroke): absolute points (cumulative
    sums), split after every point that ends a stroke; y grows upwards."""
    strokes = np.asarray(strokes, np.float64)
    points = np.cumsum(strokes[:, :2], axis=0)
    ends = np.flatnonzero(strokes[:, 2] > 0.5) + 1
    return [p for p in np.split(points, ends) if len(p)]


def handwriting_picture(results, path, references=None, title=""):
    """Graves' Figure 13: per row, a written line (`write`'s result) with its text beneath, the
    ground-truth line of the same text (`references`, strokes (T, 3), if given) and the window φ
    (characters × time, darker = more weight) beside."""
    plt = _pyplot()
    columns = 3 if references is not None else 2
    fig, axes = plt.subplots(len(results), columns, figsize=(5.5 * (columns - 1) + 4, 1.6 * len(results) + 0.5),
                             squeeze=False, gridspec_kw={"width_ratios": [5.5] * (columns - 1) + [4]})
    for row, result in enumerate(results):
        lines = [(result["strokes"], "black", result["text"])]
        if references is not None:
            lines.append((references[row], "dimgrey", "ground truth"))
        for ax, (strokes, colour, label) in zip(axes[row], lines):
            for path_xy in pen_paths(strokes):
                ax.plot(path_xy[:, 0], path_xy[:, 1], "-", color=colour, lw=1.2)
            ax.set_aspect("equal", adjustable="datalim")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(label, fontsize=9)
            for side in ax.spines.values():
                side.set_visible(False)
        ax = axes[row, -1]
        phi = np.asarray(result["phi"])
        if phi.shape[1]:
            ax.imshow(phi.T, cmap="gray_r", aspect="auto", interpolation="nearest", vmin=0,
                      vmax=max(float(phi.max()), 1e-6))
            ax.set_yticks(range(phi.shape[1]), ["␣" if c == " " else c for c in result["text"]], fontsize=6)
        ax.set_xlabel("time step (points)", fontsize=7)
        ax.tick_params(axis="x", labelsize=6)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, path, dpi=100)
