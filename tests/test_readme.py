"""README.md runs as written: its ```python blocks in one namespace and the `zoo` commands of its
```bash blocks, in order, in one empty folder, as a reader would; its models table is the cards'
and every link of README.md and docs/ leads to a file."""

import importlib
import re
import shlex
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)
# Lines of a bash block that are not run, and why.
NOT_RUN = {
    "pip install": "installs packages into the environment that runs this test",
    "make install": "builds .venv, the environment that runs this test",
    "sudo apt-get install": "installs system packages; CI installs them before the tests (.ci/run)",
}
# What the blocks promise to write into the folder they run in.
WRITTEN = ["stn.png", "item.png", "rts_mnist5k.png", "stn.tflite", "stn.tflite.json",
           "my_weights/stn.rts_mnist5k.weights.h5"]


def zoo_main():
    """The function of the `zoo` console script, as pyproject.toml names it."""
    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["zoo"]
    module, function = target.split(":")
    return getattr(importlib.import_module(module), function)


def run_bash(code, main):
    """Run each `zoo …` line of a bash block through `main`; returns the (line, reason) not run."""
    skipped = []
    for line in filter(None, (line.split(" #")[0].strip() for line in code.splitlines())):
        reason = next((why for start, why in NOT_RUN.items() if line.startswith(start)), None)
        if reason:
            skipped.append((line, reason))
            continue
        argv = shlex.split(line)
        assert argv[0] == "zoo", f"README bash line {line!r} is neither a `zoo` command nor listed in NOT_RUN"
        try:
            main(argv[1:])
        except SystemExit as e:
            assert e.code in (None, 0), f"README: `{line}` failed: {e}"
    return skipped


def test_the_readme_is_short_and_has_only_python_and_bash_blocks():
    text = README.read_text()
    assert len(text.splitlines()) <= 200
    assert {lang for lang, _ in BLOCK.findall(text)} == {"python", "bash"}


def test_every_code_block_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main, namespace, skipped = zoo_main(), {}, []
    for lang, code in BLOCK.findall(README.read_text()):
        if lang == "python":
            exec(compile(code, str(README), "exec"), namespace)
        else:
            skipped += run_bash(code, main)
    assert [line for line, _ in skipped] and all(reason for _, reason in skipped)
    missing = [name for name in WRITTEN if not (tmp_path / name).is_file()]
    assert not missing, f"the README's blocks did not write {missing}"


def test_the_models_table_is_the_cards():
    import zoo
    from zoo import registry, tasks

    text = README.read_text()
    block = text.split("<!-- models:start", 1)[1].split("<!-- models:end -->", 1)[0]
    rows = {re.match(r"\| \[`(\w+)`\]", row).group(1): row for row in block.splitlines() if row.startswith("| [")}
    assert sorted(rows) == zoo.list_models()
    for name, row in rows.items():
        entry = registry.entry(name)
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[0] == f"[`{name}`](docs/models/{name}.md)" and (ROOT / "docs/models" / f"{name}.md").is_file()
        if entry.default_weights is None:  # a model whose recipe has not run yet
            assert cells[1:4] == [entry.task, "`–`", "no pretrained weights yet"], row
            continue
        card = registry.records(name)[entry.default_weights]
        assert cells[1:4] == [entry.task, f"`{entry.default_weights}`", tasks.get(entry.task).headline(card["metrics"]).split(" (")[0]], row


@pytest.mark.parametrize("page", [README, *sorted((ROOT / "docs").rglob("*.md"))], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_leads_to_a_file(page):
    targets = re.findall(r"\]\(([^)#\s]+)\)", page.read_text()) + re.findall(r'<img src="([^"]+)"', page.read_text())
    broken = [t for t in targets if "://" not in t and not (page.parent / t).exists()]
    assert not broken, f"{page.name} links to missing files: {broken}"
