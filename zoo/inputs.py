"""Image inputs with NumPy and Pillow alone (the edge runtime has no Keras): the checks of values a
model in [0, 1] would silently mispredict, and the transform of any image into a model's input."""

import os
from pathlib import Path

import numpy as np

RANGE_SLACK = 1e-3  # rounding in the user's preprocessing: 1.0004 is still a [0, 1] image


def check_image_values(who, images):
    """A ValueError, with the fix, for values a model in [0, 1] would silently mispredict: NaN or
    infinity, a 0–255 or [−1, 1] range, an empty batch. `images`: NumPy; `who` starts the message
    ("model 'stn'")."""
    if len(images) == 0:
        raise ValueError(f"{who} expects at least one image; got a batch of 0")
    finite = np.isfinite(images)
    if not finite.all():
        raise ValueError(f"{who} expects finite pixel values in [0, 1]; got "
                         f"{int(images.size - finite.sum())} NaN or infinite values")
    low, high = float(images.min()), float(images.max())
    if high > 1 + RANGE_SLACK:
        fix = ": divide 0–255 images by 255" if high <= 255 else ""
        raise ValueError(f"{who} expects pixel values in [0, 1]; got values up to {high:g}{fix}")
    if low < -RANGE_SLACK:
        fix = ": map [−1, 1] images to [0, 1] with (images + 1) / 2" if low >= -1 - RANGE_SLACK else ""
        raise ValueError(f"{who} expects pixel values in [0, 1]; got values down to {low:g}{fix}")


class ImageTransform:
    """Any image → the float32 batch (N, H, W, C) in [0, 1] that a model with input `image_shape`
    (H, W, C) takes; NumPy and Pillow only (the edge runtime has no Keras).

    An image is a file path (PNG, JPEG… through Pillow; `.npy` through NumPy), a PIL image, or a
    uint8 (0–255) or float ([0, 1]) array (h, w), (h, w, 1) or (h, w, 3) of any size; a list of them,
    or an array (n, h, w, c), is a batch. Steps: scale (uint8 / 255); channels (RGB → grey by the
    ITU-R 601 luma L = 0.299 R + 0.587 G + 0.114 B, Pillow's "L"; grey → RGB by repetition); resize to
    H×W (Pillow's antialiased bilinear, aspect ratio not kept; `resize=False` refuses other sizes).

        to_input = ImageTransform((42, 42, 1))
        to_input("shirt.jpg").shape      # (1, 42, 42, 1), float32 in [0, 1]
    """

    def __init__(self, image_shape, resize=True, resize_hint="resize=True scales them"):
        shape = tuple(int(d) for d in image_shape)
        if len(shape) != 3 or min(shape) < 1 or shape[-1] not in (1, 3):
            raise ValueError(f"image_shape must be (height, width, 1 or 3 channels); got {tuple(image_shape)}")
        self.image_shape, self.resize, self.resize_hint = shape, bool(resize), resize_hint

    def __repr__(self):
        return f"ImageTransform(image_shape={self.image_shape}, resize={self.resize})"

    def __call__(self, images):
        """`images` (one image or a batch, see the class) as float32 (N, H, W, C) in [0, 1]."""
        if isinstance(images, (list, tuple)) or (isinstance(images, np.ndarray) and images.ndim == 4):
            if len(images) == 0:
                raise ValueError(f"{self} expects at least one image; got an empty {type(images).__name__}")
            return np.stack([self._one(image) for image in images])
        return self._one(images)[None]

    def _one(self, image):
        height, width, channels = self.image_shape
        array = _pixels(image, channels)
        if array.size == 0:
            raise ValueError(f"{self} expects a non-empty image; got shape {array.shape}")
        if array.ndim == 2:
            array = array[..., None]
        if array.ndim != 3 or array.shape[-1] not in (1, 3):
            hint = " (drop the alpha channel: image[..., :3])" if array.ndim == 3 and array.shape[-1] == 4 else ""
            raise ValueError(f"{self} expects an image of shape (h, w), (h, w, 1) or (h, w, 3); "
                             f"got shape {array.shape}{hint}")
        if array.dtype == np.uint8:
            array = array / np.float32(255)
        elif not np.issubdtype(array.dtype, np.floating):
            raise ValueError(f"{self} expects uint8 (0–255) or float ([0, 1]) pixels; got dtype {array.dtype}")
        array = array.astype(np.float32)
        check_image_values(str(self), array)
        if array.shape[-1] != channels:
            array = array @ np.float32([[0.299], [0.587], [0.114]]) if channels == 1 else np.repeat(array, 3, -1)
        if array.shape[:2] != (height, width):
            if not self.resize:
                raise ValueError(f"{self} expects images of {height}×{width}; got {array.shape[0]}×{array.shape[1]}"
                                 f" ({self.resize_hint})")
            from PIL import Image

            array = np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(array[..., c])).resize(
                (width, height), Image.BILINEAR)) for c in range(channels)], axis=-1)
        return np.clip(array, 0, 1).astype(np.float32)


def _pixels(image, channels):
    """The pixels of a file path, PIL image or NumPy array, as a NumPy array (grey or RGB for files)."""
    from PIL import Image

    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        if not path.is_file():
            raise ValueError(f"image file {path} does not exist")
        if path.suffix == ".npy":
            return np.load(path, allow_pickle=False)
        try:
            image = Image.open(path)
            image.load()
        except OSError as e:  # not an image, or a truncated one
            raise ValueError(f"cannot read {path} as an image ({e}); give a PNG, JPEG or .npy file") from None
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("L" if channels == 1 else "RGB"))
    if isinstance(image, np.ndarray):
        return image
    raise ValueError(f"expected an image: a file path, a PIL image or a NumPy array; got {type(image).__name__}")
