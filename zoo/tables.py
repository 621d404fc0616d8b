"""Generated blocks of Markdown files: what lies between a start and an end marker is replaced by
the text a command prints (`zoo results`, `zoo matrix`, `recipes.sample_efficiency`), so the tables
in the docs come from the cards and result files, never typed."""

from pathlib import Path

from zoo.weights import atomic_write_text


def replace_block(path, markers, text):
    """Replace what lies between the two `markers` (start, end) in the file `path` by `text`, in
    one atomic write; returns the path. A ValueError if the file lacks either marker."""
    path, (start, end) = Path(path), markers
    old = path.read_text()
    if start not in old or end not in old:
        raise ValueError(f"expected {path} to hold the markers {start} … {end}; it does not")
    head, rest = old.split(start, 1)
    atomic_write_text(path, head + start + "\n" + text + end + rest.split(end, 1)[1])
    return path
