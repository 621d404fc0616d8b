"""Preprocessing you can ask for: `zoo.transforms` / `zoo.inputs.ImageTransform` turn any image into a model's input."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.inputs import ImageTransform

BIG_RGB = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)


@pytest.mark.parametrize("name", zoo.list_models(pretrained=True))  # the input spec comes from the default card
def test_every_image_model_transforms_a_big_rgb_image_to_its_input(name):
    from zoo import registry

    spec = registry.record(name)["input_spec"]
    if "images" not in spec:
        with pytest.raises(ValueError, match=f"model '{name}' .* takes no images"):
            zoo.transforms(name)
        return
    batch = zoo.transforms(name)(BIG_RGB)
    assert batch.shape == (1, *spec["images"]["shape"][1:]) and batch.dtype == np.float32
    assert 0 <= batch.min() < batch.max() <= 1


def test_a_path_reads_like_the_array_it_holds(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(BIG_RGB).save(path)
    to_input = zoo.transforms("stn")
    from_file, from_array = to_input(path), to_input(BIG_RGB)
    assert from_file.shape == (1, 42, 42, 1) and from_file.dtype == np.float32
    assert 0 <= from_file.min() and from_file.max() <= 1
    np.testing.assert_allclose(from_file, from_array, atol=1.5 / 255)  # Pillow's "L" rounds the luma to uint8
    np.save(tmp_path / "photo.npy", BIG_RGB)
    np.testing.assert_array_equal(to_input(str(tmp_path / "photo.npy")), from_array)


def test_channels_scale_size_and_batches():
    grey = np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4)
    np.testing.assert_array_equal(ImageTransform((4, 4, 1))(grey), grey[None, ..., None])  # nothing to do: identity
    rgb = ImageTransform((4, 4, 3))(grey)
    assert rgb.shape == (1, 4, 4, 3) and np.array_equal(rgb[..., 0], rgb[..., 2])
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 0] = 255
    np.testing.assert_allclose(ImageTransform((2, 2, 1))(red), 0.299, atol=1e-6)  # luma of pure red
    to_input = ImageTransform((8, 8, 1))
    assert to_input([BIG_RGB, grey]).shape == to_input(np.stack([grey[..., None]] * 2)).shape == (2, 8, 8, 1)
    with pytest.raises(ValueError, match=r"expects images of 4×4; got 240×320 \(resize=True scales them\)"):
        ImageTransform((4, 4, 1), resize=False)(BIG_RGB)


@pytest.mark.parametrize("bad, message", [
    (5, "expected an image: a file path, a PIL image or a NumPy array; got int"),
    ({"pixels": 1}, "got dict"),
    (np.zeros((8, 8, 4), np.uint8), r"got shape \(8, 8, 4\) \(drop the alpha channel"),
    (np.zeros((2, 8, 8, 3, 1), np.uint8), r"expects an image of shape \(h, w\), \(h, w, 1\) or \(h, w, 3\)"),
    (np.zeros((0, 8, 3), np.uint8), r"expects a non-empty image; got shape \(0, 8, 3\)"),
    ([], "expects at least one image; got an empty list"),
    (np.zeros((8, 8), np.int32), "expects uint8 .* or float .* pixels; got dtype int32"),
    (np.full((8, 8), 200.0), "got values up to 200: divide 0–255 images by 255"),
    ("no/such/photo.png", "image file no/such/photo.png does not exist"),
])
def test_bad_input_gets_a_one_line_error(bad, message):
    with pytest.raises(ValueError, match=message) as error:
        ImageTransform((8, 8, 1))(bad)
    assert "\n" not in str(error.value)


def test_a_file_that_is_no_image_is_refused(tmp_path):
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(ValueError, match="cannot read .*notes.png as an image"):
        zoo.transforms("cnn")(tmp_path / "notes.png")


def test_an_exported_file_gives_its_input_shape_from_its_sidecar(tmp_path):
    classifier, captioner = tmp_path / "c.tflite", tmp_path / "s.tflite"
    for path, meta in ((classifier, {"input_spec": {"images": {"shape": [None, 20, 24, 1]}}}),
                       (captioner, {"captioner": {"image_shape": [64, 64, 1]}})):
        path.write_bytes(b"")
        (tmp_path / f"{path.name}.json").write_text(json.dumps(meta))
    assert zoo.transforms(str(classifier)).image_shape == (20, 24, 1)
    assert zoo.transforms(str(captioner)).image_shape == (64, 64, 1)
    (tmp_path / "c.tflite.json").unlink()
    with pytest.raises(ValueError, match=r"c.tflite.json, the sidecar zoo export writes beside c.tflite .* is missing"):
        zoo.transforms(str(classifier))


def test_the_transform_needs_no_keras(tmp_path):
    """The runtime-only install (NumPy, Pillow, LiteRT) preprocesses for an exported file."""
    (tmp_path / "c.tflite").write_bytes(b"")
    (tmp_path / "c.tflite.json").write_text(json.dumps({"input_spec": {"images": {"shape": [None, 20, 24, 1]}}}))
    Image.fromarray(BIG_RGB).save(tmp_path / "photo.jpg")
    script = (
        "import sys\n"
        "for blocked in ('tensorflow', 'keras', 'jax'): sys.modules[blocked] = None\n"
        "import zoo\n"
        f"print(zoo.transforms({str(tmp_path / 'c.tflite')!r})({str(tmp_path / 'photo.jpg')!r}).shape)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1, 20, 24, 1)"
