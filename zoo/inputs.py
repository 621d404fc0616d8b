"""Checks of input values that need NumPy alone (the edge runtime has no Keras): what a model in
[0, 1] would silently mispredict."""

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
