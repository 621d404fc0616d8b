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
