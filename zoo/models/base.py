"""What the zoo's models share: image and token-id input checking, class names, the export signature, the mean over tokens."""

import keras
import numpy as np
from keras import ops

from zoo.inputs import check_image_values


def concrete(x):
    """`x` as NumPy when its values exist now (a NumPy array, an eager tensor, a JAX array outside
    `jit`); None inside a traced function, where values cannot be looked at."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, keras.KerasTensor):
        return None
    if keras.backend.backend() == "jax":
        import jax

        if isinstance(x, jax.core.Tracer):
            return None
    elif keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if tf.is_symbolic_tensor(x) or not tf.executing_eagerly():
            return None
    return keras.ops.convert_to_numpy(x)


def cell_centres(rows, columns):
    """(rows·columns, 2) float32: each grid cell's centre (y, x) in [−1, 1]², in reading order."""
    y, x = np.meshgrid((np.arange(rows) + 0.5) / rows * 2 - 1, (np.arange(columns) + 0.5) / columns * 2 - 1,
                       indexing="ij")
    return np.stack([y, x], -1).reshape(rows * columns, 2).astype("float32")


def cells_in_boxes(boxes, canvas, grid):
    """(…, rows·columns) float32, 1 where a cell of `grid` (rows, columns) over a `canvas` (H, W)
    image has its centre, in pixels, inside the box (y0, x0, y1, x1) of `boxes` (…, 4), end
    exclusive, else 0; a box with y0 < 0 (no item) holds no cell. The one test of "on the item"
    that VQA's attention targets and its grounding metric share."""
    boxes = ops.cast(boxes, "float32")
    (height, width), (rows, columns) = canvas, grid
    y = (ops.arange(rows, dtype="float32") + 0.5) * (height / rows)
    x = (ops.arange(columns, dtype="float32") + 0.5) * (width / columns)
    inside_y = ops.cast((boxes[..., 0:1] <= y) & (y < boxes[..., 2:3]), "float32")  # (…, rows)
    inside_x = ops.cast((boxes[..., 1:2] <= x) & (x < boxes[..., 3:4]), "float32")  # (…, columns)
    return ops.reshape(inside_y[..., :, None] * inside_x[..., None, :], (-1, *boxes.shape[1:-1], rows * columns))


def check_ids(model_name, ids, what, expected_shape, length_ok, vocabulary_size, hint=""):
    """`ids` as int32 if they are integer `what` (e.g. "question word ids") of shape (batch, L) with
    `length_ok(L)` (`expected_shape` says it in words) and, where concrete, values in
    [0, vocabulary_size); else a one-line ValueError saying what model `model_name` expected and got."""
    dtype, shape = keras.backend.standardize_dtype(ids.dtype), tuple(ids.shape)
    if "int" not in dtype or len(shape) != 2 or (shape[1] is not None and not length_ok(shape[1])):
        raise ValueError(f"model {model_name!r} expects {what} as integers of shape {expected_shape}, 0 = padding; "
                         f"got {dtype} {shape}")
    values = concrete(ids)
    if values is not None and values.size and (values.min() < 0 or values.max() >= vocabulary_size):
        raise ValueError(f"model {model_name!r} expects {what} in [0, {vocabulary_size - 1}]; got ids from "
                         f"{values.min()} to {values.max()}.{hint}")
    return ops.cast(ids, "int32")


def check_images(model_name, images, image_shape):
    """`images` as float32 if they are float (batch, *image_shape) with values in [0, 1] (checked
    where they are concrete, `check_image_values`); else a ValueError that says what model
    `model_name` expected, what it got, and how to fix the usual mistakes."""
    dtype = keras.backend.standardize_dtype(images.dtype)
    expected = f"(batch, {', '.join(map(str, image_shape))})"
    if "float" not in dtype:
        raise ValueError(
            f"model {model_name!r} expects float32 images with values in [0, 1]; got dtype {dtype}. "
            "Convert with images.astype('float32') / 255."
        )
    shape = tuple(images.shape)
    if len(shape) != 4 or shape[1:] != tuple(image_shape):
        hint = ""
        if shape == tuple(image_shape):
            hint = " For one image, add a batch axis: images[None]."
        elif len(shape) == 3 and shape[1:] == tuple(image_shape[:2]) and image_shape[2] == 1:
            hint = " Add the channel axis: images[..., None]."
        raise ValueError(f"model {model_name!r} expects images of shape {expected}; got shape {shape}.{hint}")
    values = concrete(images)
    if values is not None:
        check_image_values(f"model {model_name!r}", values)
    return ops.cast(images, "float32")


def token_mean(values, targets):
    """Σ_t v_t·m_t / max(Σ_t m_t, 1), m_t = [y_t ≠ 0]: the mean of `values` over the real tokens of
    `targets` (padding, id 0, excluded; 0 when there are none)."""
    valid = ops.cast(ops.not_equal(targets, 0), "float32")
    return ops.sum(values * valid) / ops.maximum(ops.sum(valid), 1.0)


class ImageClassifier(keras.Model):
    """Base of the zoo's image classifiers.

    Takes float NHWC images in [0, 1] of a fixed `image_shape` and returns class
    probabilities (B, num_classes). Integer images and wrong shapes are refused with an
    error that says what was expected, instead of being silently cast.
    """

    def __init__(self, image_shape, num_classes=10, class_names=None, **kwargs):
        super().__init__(**kwargs)
        image_shape = tuple(int(d) for d in image_shape)
        if len(image_shape) != 3 or min(image_shape) < 1:
            raise ValueError(f"image_shape must be (height, width, channels); got {image_shape}")
        if int(num_classes) < 2:
            raise ValueError(f"num_classes must be at least 2; got {num_classes}")
        class_names = [str(c) for c in class_names] if class_names else [str(i) for i in range(num_classes)]
        if len(class_names) != num_classes:
            raise ValueError(f"class_names has {len(class_names)} names for num_classes={num_classes}")
        self.image_shape = image_shape
        self.num_classes = int(num_classes)
        self.class_names = class_names

    def build_for_inputs(self):
        """Create every variable by running the model once on a zero image."""
        self(ops.zeros((1, *self.image_shape)))

    def check_images(self, images):
        """Refuse non-float, wrongly shaped or out-of-range images; return them as float32."""
        return check_images(self.name, images, self.image_shape)

    def predict(self, x, *args, **kwargs):
        """Keras's `predict`, with NumPy images checked first (`predict` traces `call`, where values
        cannot be checked)."""
        if isinstance(x, np.ndarray):
            check_images(self.name, x, self.image_shape)
        return super().predict(x, *args, **kwargs)

    def picture(self, images, labels, path):
        """Write a PNG of the model's attention on `images` (plain predictions for models without one)."""
        from zoo.pictures import predictions_picture

        return predictions_picture(self, images, labels, path)

    def serving_signature(self):
        """Inputs (name -> shape with batch None) and the inference function used by export."""
        return {"images": (None, *self.image_shape)}, lambda images: {"probabilities": self(images, training=False)}

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": self.image_shape,
            "num_classes": self.num_classes,
            "class_names": self.class_names,
        }
