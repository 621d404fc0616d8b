"""PNG contact sheets of dataset examples (matplotlib's Agg canvas, no pyplot state)."""

import math
import os
import tempfile


def write_grid(images, titles, path, title=""):
    """Write images (N, H, W, 1) uint8 as a square-ish grid titled `titles` to PNG `path`, atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # imported here: matplotlib is slow to import
    from matplotlib.figure import Figure

    cols = max(1, math.ceil(math.sqrt(len(images))))
    rows = max(1, math.ceil(len(images) / cols))
    figure = Figure(figsize=(1.4 * cols, 1.5 * rows + 0.4))
    FigureCanvasAgg(figure)
    for k, (image, name) in enumerate(zip(images, titles)):
        axes = figure.add_subplot(rows, cols, k + 1)
        axes.imshow(image[..., 0], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        axes.set_title(name, fontsize=8)
        axes.axis("off")
    figure.suptitle(title)
    figure.tight_layout()
    return _save(figure, path)


def _save(figure, path):
    """Save `figure` as PNG `path` atomically."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".preview-", suffix=".png")
    os.close(fd)
    try:
        figure.savefig(temporary, format="png", dpi=100)
        os.chmod(temporary, 0o644)  # mkstemp makes it owner-only
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path


def write_lines(images, texts, path, title=""):
    """Write line images (uint8 (H, W_i), widths may differ) one under another, each with its text
    beneath, to PNG `path`, atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width = max((image.shape[1] for image in images), default=1)
    figure = Figure(figsize=(min(16, 1 + width / 70), 0.9 * len(images) + 0.5))
    FigureCanvasAgg(figure)
    for k, (image, text) in enumerate(zip(images, texts)):
        axes = figure.add_subplot(len(images), 1, k + 1)
        axes.imshow(image, cmap="gray", vmin=0, vmax=255, extent=(0, image.shape[1], image.shape[0], 0))
        axes.set_xlim(0, width)
        axes.set_xticks([]), axes.set_yticks([])
        axes.set_xlabel(text, fontsize=9, loc="left")
        for side in axes.spines.values():
            side.set_visible(False)
    figure.suptitle(title)
    figure.tight_layout()
    return _save(figure, path)
