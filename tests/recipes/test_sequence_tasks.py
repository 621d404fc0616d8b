"""Grid LSTM's sequence tasks: generated sequences, answer masks, exact match, the sample-efficiency runner."""

import json
from pathlib import Path

import numpy as np
import pytest

from recipes import sample_efficiency
from recipes.data import sequence_tasks as tasks

ROOT = Path(__file__).resolve().parents[2]


def test_addition_sequences_hold_correct_sums():
    for s in tasks.strings("addition_15", 50, seed=3):
        question, answer = s.split("=")
        a, b = question.split("+")
        assert len(a) == len(b) == 15 and a[0] != "0" and b[0] != "0"
        assert answer.endswith(".") and len(answer) == 17 and int(answer[:-1]) == int(a) + int(b)


def test_memorisation_repeats_the_symbols():
    for s in tasks.strings("memorisation_20", 50, seed=3):
        first, second = s.split("=")
        assert len(first) == 20 and second == first + "." and set(first) <= set("abcdefghij")


@pytest.mark.parametrize("task", sorted(tasks.TASKS))
def test_weights_mark_exactly_the_answer(task):
    ids, targets, weights = tasks.draw(task, 8, seed=0)
    tokens = tasks.TASKS[task]["tokens"]
    assert ids.shape == targets.shape == weights.shape and ids.dtype == np.int32
    np.testing.assert_array_equal(ids[:, 1:], targets[:, :-1])  # targets are the next symbols
    for row_ids, row_targets, row_weights in zip(ids, targets, weights):
        text = "".join(tokens[i] for i in row_ids) + tokens[row_targets[-1]]
        answer = "".join(tokens[t] for t, w in zip(row_targets, row_weights) if w)
        assert answer == text.split("=")[1]  # the answer and the closing ".", nothing else


def test_draws_are_seeded_and_the_test_stream_differs():
    np.testing.assert_array_equal(tasks.draw("addition_15", 4, [0, 1])[0], tasks.draw("addition_15", 4, [0, 1])[0])
    assert not np.array_equal(tasks.draw("addition_15", 4, [0, 1])[0], tasks.draw("addition_15", 4, [tasks.TEST_SEED, 0])[0])
    with pytest.raises(ValueError, match="unknown sequence task 'addition'.*addition_15"):
        tasks.draw("addition", 1, 0)


def test_the_catalogue_serves_the_tasks_as_sample_efficiency_draws_them():
    from recipes import data

    dataset = data.get("addition_15")
    assert dataset.kind == "sequence" and dataset.info()["splits"]["test"] == tasks.TEST_SEQUENCES
    test = tasks.draw("addition_15", tasks.TEST_SEQUENCES, [tasks.TEST_SEED, 3])
    for mine, theirs in zip(dataset.load("test", seed=3, limit=5), test):
        np.testing.assert_array_equal(mine, theirs[:5])
    for mine, theirs in zip(dataset.load("train", seed=3, limit=4), tasks.draw("addition_15", 4, [3, 0])):
        np.testing.assert_array_equal(mine, theirs)
    config = dataset.model_config({"units": 8}, {})
    assert config == {"units": 8, "tokens": tasks.TASKS["addition_15"]["tokens"], "context": 48}
    assert sample_efficiency.build("addition_15", "grid", 4, 1).context == config["context"]


def test_a_sequence_is_solved_only_when_every_answer_symbol_is_the_most_likely():
    ids, targets, weights = tasks.draw("memorisation_20", 4, seed=0)
    perfect = np.eye(len(tasks.TASKS["memorisation_20"]["tokens"]))[targets]
    assert tasks.solved(perfect, targets, weights).all()
    wrong_question = perfect.copy()
    wrong_question[0, 0] = np.roll(wrong_question[0, 0], 1)  # a question symbol: not scored
    assert tasks.solved(wrong_question, targets, weights).all()
    wrong_answer = perfect.copy()
    wrong_answer[1, -3] = np.roll(wrong_answer[1, -3], 1)
    assert tasks.solved(wrong_answer, targets, weights).tolist() == [True, False, True, True]


@pytest.mark.parametrize("units,depth", [(7, 1), (30, 2), (16, 3)])
def test_stacked_parameter_formula_matches_the_model(units, depth):
    model = sample_efficiency.build("addition_15", "stacked", units, depth)
    assert sample_efficiency.stacked_parameters(units, depth, 13) == model.count_params()


def test_the_baseline_is_matched_to_the_grid_budget():
    grid = sample_efficiency.build("memorisation_20", "grid", 32, 3)
    units = sample_efficiency.matched_stacked_units("memorisation_20", grid.count_params(), 2)
    stacked = sample_efficiency.build("memorisation_20", "stacked", units, 2)
    assert abs(stacked.count_params() - grid.count_params()) / grid.count_params() < 0.03


def test_tiny_run_records_a_curve_and_markdown_says_when_the_threshold_was_not_reached():
    result = sample_efficiency.run("memorisation_20", units=8, depth=2, stacked_depth=1, budget=64, threshold=100,
                                   every=32, batch_size=32, learning_rate=1e-3, seed=0, log=lambda line: None)
    for m in result["models"].values():
        assert [s for s, _, _ in m["curve"]] == [32, 64] and m["samples_to_threshold"] is None
        assert all(0 <= exact <= symbols <= 100 for _, exact, symbols in m["curve"])
    result["command"] = "python -m recipes.sample_efficiency memorisation_20"
    assert "not within 64" in sample_efficiency.markdown([result])


def test_the_generated_table_matches_the_results():
    results = [json.loads(p.read_text()) for p in sorted(sample_efficiency.RESULTS.glob("*.json"))]
    if not results:
        pytest.skip("no sequence-task results yet")
    start, end = sample_efficiency.README_MARKERS
    homes = [p for p in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))] if start in p.read_text()]
    assert len(homes) == 1, f"the generated table needs exactly one home; found {homes}"
    block = homes[0].read_text().split(start, 1)[1].split(end, 1)[0]
    assert block.strip() == sample_efficiency.markdown(results).strip()
