"""The weight store: integrity checks, offline mode, downloads, atomic writes, safe loading."""

import os

import numpy as np
import pytest

import zoo
from zoo import weights as store
from zoo.weights import WeightsError

TINY = {"image_shape": (16, 16, 1), "num_classes": 2, "filters": (2, 2), "kernel_size": 3, "units": 4}


@pytest.fixture
def saved(tmp_path):
    model = zoo.load("cnn", weights=None, **TINY)
    path = tmp_path / "tiny.weights.h5"
    digest = store.save(model, path)
    return model, path, digest


def test_save_is_atomic_and_leaves_no_temporary_files(saved, tmp_path):
    _, path, digest = saved
    assert store.sha256(path) == digest
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.weights.h5"]


def test_failed_write_keeps_the_old_file(saved, tmp_path):
    _, path, digest = saved
    with pytest.raises(RuntimeError):
        with store.atomic_path(path) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("crash mid-write")
    assert store.sha256(path) == digest
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.weights.h5"]


def test_load_by_path_gives_identical_outputs(saved):
    model, path, _ = saved
    loaded = zoo.load("cnn", weights=str(path), **{k: v for k, v in TINY.items()})
    x = np.random.default_rng(0).random((2, 16, 16, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)


def test_corrupt_file_is_refused(saved):
    _, path, _ = saved
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(WeightsError, match="not a readable Keras weights file"):
        zoo.load("cnn", weights=str(path), **TINY)


def test_mismatched_file_is_refused_before_anything_is_assigned(saved):
    _, path, _ = saved
    other = zoo.load("cnn", weights=None, **{**TINY, "units": 5})
    before = [np.array(v) for v in other.weights]
    with pytest.raises(WeightsError, match=r"does not fit model .*shapes the model needs but the file lacks"):
        store.load_into(other, path)
    for b, v in zip(before, other.weights):
        np.testing.assert_array_equal(b, np.asarray(v))


def test_tampered_sha256_is_refused(saved, zoo_home):
    _, path, digest = saved
    zoo_home.mkdir(parents=True)
    cached = zoo_home / "tiny.weights.h5"
    cached.write_bytes(path.read_bytes())
    assert store.fetch("tiny.weights.h5", digest) == cached
    with pytest.raises(WeightsError, match=f"expected sha256 {'0' * 64}, got {digest}"):
        store.fetch("tiny.weights.h5", "0" * 64)


def test_offline_mode_never_downloads(zoo_home, monkeypatch):
    monkeypatch.setenv("ATTENTION_ZOO_OFFLINE", "1")
    with pytest.raises(WeightsError, match="offline mode is on"):
        store.fetch("absent.weights.h5", "0" * 64, url="http://127.0.0.1:9/absent.weights.h5")


def test_download_from_url_is_verified_and_cached(saved, zoo_home):
    _, path, digest = saved
    url = path.resolve().as_uri()  # a file:// URL goes through keras.utils.get_file like http
    got = store.fetch("tiny.weights.h5", digest, url=url)
    assert got == zoo_home / "tiny.weights.h5" and store.sha256(got) == digest
    os.remove(got)
    with pytest.raises(WeightsError, match="failed its integrity check"):
        store.fetch("tiny.weights.h5", "f" * 64, url=url)
    assert not (zoo_home / "tiny.weights.h5").exists(), "a download that fails verification must not land"


def test_load_from_url_with_sha256_fragment(saved, zoo_home):
    model, path, digest = saved
    loaded = zoo.load("cnn", weights=f"{path.resolve().as_uri()}#sha256={digest}", **TINY)
    x = np.ones((1, 16, 16, 1), "float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)


def test_url_fragments_and_names_are_checked(saved, zoo_home):
    model, path, digest = saved
    url = path.resolve().as_uri()
    for typo in ("sha-256=" + digest, "sha256=" + digest[:-1], "md5=abc"):  # never a silent loss of verification
        with pytest.raises(ValueError, match="#sha256= and 64 hexadecimal digits"):
            zoo.load("cnn", weights=f"{url}#{typo}", **TINY)
    loaded = zoo.load("cnn", weights=f"{url}#sha256={digest.upper()}", **TINY)  # hex is hex, whatever its case
    assert len(loaded.weights) == len(model.weights)
    with pytest.raises(ValueError, match="a URL ending in a file name"):
        zoo.load("cnn", weights=url.rsplit("/", 1)[0] + "/..", **TINY)
    assert sorted(p.name for p in zoo_home.iterdir()) == ["tiny.weights.h5"]


def test_a_folder_named_like_a_tag_does_not_hijack_loading(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "default").mkdir()
    (tmp_path / "rts_mnist5k").mkdir()
    assert zoo.load("stn").count_params() == zoo.load("stn", weights="rts_mnist5k").count_params()


def test_missing_file_without_url(zoo_home):
    with pytest.raises(WeightsError, match="not found; looked in"):
        store.fetch("nothing.weights.h5", "0" * 64)


def test_weights_saved_from_a_compiled_model_load(tmp_path):
    """A user's own `model.save_weights` after fit holds optimizer state; it still loads."""
    model = zoo.load("cnn", weights=None, **TINY)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(np.zeros((4, 16, 16, 1), "float32"), np.zeros(4), verbose=0)
    model.save_weights(tmp_path / "trained.weights.h5")
    loaded = zoo.load("cnn", weights=str(tmp_path / "trained.weights.h5"), **TINY)
    x = np.ones((1, 16, 16, 1), "float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)


def _beside(path, suffix, **content):
    """Write a card (".json") or recipe (".recipe.json") of `content` beside the weights file `path`."""
    import json

    stem = path.name.removesuffix(".weights.h5")
    store.atomic_write_text(path.with_name(stem + suffix), json.dumps(content))


@pytest.fixture
def trained(tmp_path):
    """A `zoo train`-like output: cnn weights of a non-default config, MODEL.TAG.weights.h5."""
    model = zoo.load("cnn", weights=None, **TINY)
    path = tmp_path / "cnn.tiny.weights.h5"
    store.save(model, path)
    return model, path


def test_a_file_loads_by_path_with_the_config_of_its_card(trained):
    model, path = trained
    _beside(path, ".json", model="cnn", tag="tiny", config={**TINY, "class_names": ["no", "yes"]})
    loaded = zoo.load("cnn", weights=str(path))
    x = np.random.default_rng(0).random((2, 16, 16, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)
    assert loaded.class_names == ["no", "yes"]
    with pytest.raises(WeightsError, match=r"the options \['units'\] change the model so that .* no longer fits \(its"):
        zoo.load("cnn", weights=str(path), units=5)
    _beside(path, ".json", model="stn", tag="tiny", config=TINY)
    with pytest.raises(ValueError, match=r"cnn.tiny.json to describe model 'cnn' .*; it describes 'stn'"):
        zoo.load("cnn", weights=str(path))


def test_without_a_card_the_recipe_beside_the_file_gives_the_config(trained):
    model, path = trained
    recipe = {k: TINY[k] for k in ("filters", "kernel_size", "units")}  # what a recipe sets; its dataset the rest
    _beside(path, ".recipe.json", model="cnn", tag="tiny", data="x", config=recipe)
    with pytest.raises(WeightsError, match=r"has no card cnn.tiny.json beside it; built from its recipe .*pass the "
                                           r"dataset's options \(image_shape, num_classes"):
        zoo.load("cnn", weights=str(path))
    loaded = zoo.load("cnn", weights=str(path), image_shape=(16, 16, 1), num_classes=2)
    assert loaded.count_params() == model.count_params()


def test_a_file_without_card_or_recipe_that_does_not_fit_says_what_to_pass(trained):
    _, path = trained
    with pytest.raises(WeightsError) as error:
        zoo.load("cnn", weights=str(path))
    message = str(error.value)
    assert "\n" not in message and "no card cnn.tiny.json or recipe cnn.tiny.recipe.json beside it" in message
    assert "built from the config of its default weights cnn:rts_fashion_mnist" in message
    assert f"pass the options it was trained with, e.g. zoo.load('cnn', weights='{path}', units=…)" in message
