"""The captioned-scene generator: determinism, geometry, the grammar's references, the caption
checker and attention grounding."""

import numpy as np
import pytest

from recipes import data
from recipes.data import scenes

NAME = "scenes_fashion_mnist"


@pytest.fixture(scope="module")
def drawn():
    return data.load_scenes(NAME, "test", limit=200)


def test_same_seed_same_scenes_new_seed_new_scenes(drawn):
    again = scenes._generate.__wrapped__("fashion_mnist", "test", 0, 200, "auto", None)
    np.testing.assert_array_equal(again.images, drawn.images)
    assert again.references == drawn.references
    other = data.load_scenes(NAME, "test", seed=1, limit=200)
    assert not np.array_equal(other.images, drawn.images)


def test_items_are_distinct_one_per_cell_and_inside_their_boxes(drawn):
    assert drawn.images.shape == (200, 64, 64, 1) and drawn.images.dtype == np.uint8
    counts = (drawn.classes >= 0).sum(1)
    assert counts.min() == 2 and counts.max() == 4
    for i in range(len(drawn)):
        objects = drawn.objects(i)
        assert len({o["noun"] for o in objects}) == len(objects) == len({o["cell"] for o in objects})
        for o in objects:
            y0, x0, y1, x1 = o["box"]
            row, column = o["cell"]
            assert 32 * row <= y0 < y1 <= 32 * row + 32 and 32 * column <= x0 < x1 <= 32 * column + 32
            assert (y1 - y0) <= (16 if o["small"] else 28) and drawn.images[i, y0:y1, x0:x1].max() >= scenes.BOX_THRESHOLD
        outside = drawn.images[i, ..., 0].copy()
        for o in objects:
            y0, x0, y1, x1 = o["box"]
            outside[y0:y1, x0:x1] = 0
        assert outside.max() < scenes.BOX_THRESHOLD, "pixels outside every box"


def test_every_reference_is_true_and_complete(drawn):
    for i in range(len(drawn)):
        refs = drawn.references[i]
        assert len(refs) == scenes.REFERENCES
        assert all(scenes.check(r, drawn.objects(i)) for r in refs), refs
        assert max(len(r.split()) for r in refs) <= data.info(NAME)["max_words"]
        assert set(" ".join(refs).split()) <= set(scenes.words(NAME))


def test_the_checker_catches_false_and_incomplete_captions():
    objects = [{"noun": "sneaker", "small": True, "cell": (0, 0), "box": (0, 0, 16, 16)},
               {"noun": "bag", "small": False, "cell": (1, 1), "box": (34, 34, 62, 62)}]
    good = "a small sneaker above and to the left of a bag"
    assert scenes.check(good, objects)
    assert scenes.check("a bag at the bottom right and a small sneaker at the top left", objects)
    for wrong in ("a small sneaker at the top left",                                  # bag missing
                  "a sneaker above and to the left of a bag",                          # size wrong
                  "a small sneaker to the left of a bag",                              # relation wrong
                  "a small sneaker at the top right and a bag at the bottom right",    # position wrong
                  "a small sneaker at the top left and a bag at the bottom right and a coat at the top right",
                  "a small sneaker at the top left and a small sneaker at the top left and a bag at the bottom right",
                  "a small sneaker at the top left a bag",                             # does not parse
                  ""):
        assert not scenes.check(wrong, objects), wrong
    with pytest.raises(scenes.CaptionError, match="expected 'and'"):
        scenes.parse("a small sneaker at the top left a bag")


def test_grounding_looks_at_the_peak_cell():
    objects = [{"noun": "bag", "small": False, "cell": (1, 1), "box": (34, 34, 62, 62)}]
    caption = "a bag at the bottom right"
    attention = np.zeros((6, 8, 8))
    attention[1, 5, 6] = 1.0  # cell centre (44, 52): inside the box
    assert scenes.grounded(caption, attention, objects) == [(True, True)]
    attention[1] = 0
    attention[1, 0, 0] = 1.0
    assert scenes.grounded(caption, attention, objects) == [(False, True)]
    thin = [{"noun": "bag", "small": True, "cell": (1, 1), "box": (34, 37, 50, 43)}]  # x 37..42: no centre (36, 44)
    assert scenes.grounded(caption, attention, thin) == [(False, False)]


def test_scene_dataset_names_and_errors():
    assert {"scenes_fashion_mnist", "scenes_mnist5k"} <= set(data.list_datasets())
    assert data.info(NAME)["kind"] == "captions"
    with pytest.raises(ValueError, match="load_scenes"):
        data.load_arrays(NAME)
    with pytest.raises(ValueError, match="unknown dataset 'scenes_fashion'. Did you mean 'scenes_fashion_mnist'"):
        data.load_scenes("scenes_fashion")
    with pytest.raises(ValueError, match="'dates' is a text dataset: use load_texts"):
        data.caption_pairs("dates")
    images, captions = data.caption_pairs(NAME, "test", limit=20)
    drawn = data.load_scenes(NAME, "test", limit=20)
    assert all(c in refs for c, refs in zip(captions, drawn.references)) and len(set(captions)) > 10
    assert [refs.index(c) for c, refs in zip(captions, drawn.references)] != [0] * 20  # a random reference each
    _, first = data.caption_pairs(NAME, "test", limit=20, reference=0)
    assert first == [refs[0] for refs in drawn.references]  # reading order, as the recipes train
    with pytest.raises(ValueError, match="reference must be None or one of 0 … 4; got 5"):
        data.caption_pairs(NAME, "test", limit=2, reference=5)


def test_coco_captions_path_on_tfds_mock_data():
    """The online COCO path, on TFDS's mock data (no download): resized RGB images, cleaned
    references, teacher-forcing pairs, and a vocabulary built from the training references."""
    tfds = pytest.importorskip("tensorflow_datasets")
    from recipes import configs, train
    from recipes.data import coco

    with tfds.testing.mock_data(num_examples=3):
        drawn = data.load_scenes("coco_captions", "train", limit=2)
        assert drawn.images.shape == (2, coco.SIZE, coco.SIZE, 3) and drawn.images.dtype == np.uint8
        assert all(len(refs) >= 5 and all(r == coco.clean(r) for r in refs) for refs in drawn.references)
        images, captions = data.caption_pairs("coco_captions", "train", limit=2)
        assert len(captions) == 2 and captions[0] in drawn.references[0]
        config = train.model_config(configs.get("show_attend_tell_coco_soft"))
    assert config["image_shape"] == (coco.SIZE, coco.SIZE, 3) and len(config["tokens"]) > 2
    assert coco.clean("A Dog, on the  BEACH!") == "a dog on the beach"
