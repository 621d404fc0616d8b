"""The training pipeline over the catalogue's arrays: each epoch's order, fresh draws, batches for
`fit` (tf.data on TensorFlow, a `keras.utils.PyDataset` elsewhere) and what a model is fed.

    ds = dataset("translated60_mnist5k", batch_size=128)   # (float32 [0, 1], int32)
    fit_data = batches(fresh_draws("cluttered100_mnist5k"), 128, seed=0, epochs=10)

A streamed dataset (`cluttered200_*`, `cluttered400_*`: too big to hold) gives a `Stream` as its
fresh draws, and `batches` draws it one batch at a time, never a whole epoch. Padded sequences of
many lengths (a stroke writer's lines) come as `LengthBuckets`: batches of lines of about one length,
each cut to its longest.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np

from recipes.data.catalogue import get


def epoch_order(n, seed, epoch):
    """The order in which epoch `epoch` visits examples 0 … n−1: a permutation drawn from
    (seed, epoch) alone, so a run resumed at epoch e sees exactly the batches an uninterrupted
    run sees there, on any backend."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def epoch_examples(source, seed, shuffle, epoch):
    """Epoch `epoch`'s examples in visiting order: `source` (arrays, any nesting; or a function
    epoch → arrays, e.g. `fresh_draws`) permuted by `epoch_order` when `shuffle`."""
    arrays = source(epoch) if callable(source) else source
    if not shuffle:
        return arrays
    rows = epoch_order(len(keras.tree.flatten(arrays)[0]), seed, epoch)
    return keras.tree.map_structure(lambda a: a[rows], arrays)


def bucketed_order(lengths, batch_size, seed, epoch, pool=32):
    """An epoch's order that batches sequences of about one length: `epoch_order`, each run of `pool`
    batches sorted by length, then the full batches shuffled (the last, partial one stays last), all
    drawn from (seed, epoch) alone like `epoch_order`."""
    order = epoch_order(len(lengths), seed, epoch)
    size = pool * batch_size
    order = np.concatenate([run[np.argsort(lengths[run], kind="stable")]
                            for run in (order[i : i + size] for i in range(0, len(order), size))])
    full = len(order) // batch_size
    batches = np.random.default_rng([seed, epoch, 1]).permutation(full)
    rows = (batches[:, None] * batch_size + np.arange(batch_size)).reshape(-1)
    return np.concatenate([order[rows], order[full * batch_size :]])


class LengthBuckets:
    """Sequences zero-padded to the longest, with their lengths: `batches` visits them in
    `bucketed_order` and cuts each batch's `key` input (axis 1) to its longest sequence rounded up
    to `width` (a few shapes to compile, little padding to compute). For a loss that masks padding,
    training sees what the padded arrays give, at a fraction of the cost.

    `arrays`: (inputs dict, targets); `lengths`: int (N,) the real length of each sequence."""

    def __init__(self, arrays, lengths, key, width=64):
        self.arrays, self.lengths, self.key, self.width = arrays, np.asarray(lengths), key, int(width)

    def __len__(self):
        return len(self.lengths)

    def cut(self, batch, lengths):
        """`batch` (inputs, targets) with inputs[key] cut to max(lengths) rounded up to `width`."""
        inputs, targets = batch
        keep = min(-(-int(lengths.max()) // self.width) * self.width, inputs[self.key].shape[1])
        return {**inputs, self.key: inputs[self.key][:, :keep]}, targets


def for_model(array, cast=lambda a, dtype: a.astype(dtype)):
    """What a model is fed: uint8 images as float32 in [0, 1], int64 ids as int32, else as is.
    `cast(array, dtype)` is NumPy's (the default) or TensorFlow's."""
    name = array.dtype.name
    if name == "uint8":
        return cast(array, "float32") / 255.0
    return cast(array, "int32") if name == "int64" else array


class Stream:
    """The fresh draws of a streamed dataset's split, one batch at a time: batch b (size B) of epoch
    e holds examples `epoch_order(n, seed, e)[b·B : (b+1)·B]` (in order without shuffling), placed
    and cluttered from (seed, split, e, b) alone (`ImageDataset.draw`). Only that batch is made."""

    def __init__(self, dataset, split, seed, limit=None):
        self.dataset, self.split, self.seed = dataset, split, seed
        total = dataset.info()["splits"][split]
        self.n = total if limit is None else min(limit, total)
        self._order = (None, None)  # (epoch, its order): one permutation per epoch, not per batch

    def __len__(self):
        return self.n

    def batch(self, epoch, index, batch_size, shuffle=True):
        """(images uint8 (B, H, W, 1), labels int64 (B,)) of batch `index` of epoch `epoch`."""
        order = self._order
        if shuffle and order[0] != epoch:
            order = self._order = (epoch, epoch_order(self.n, self.seed, epoch))
        rows = (order[1] if shuffle else np.arange(self.n))[index * batch_size : (index + 1) * batch_size]
        if len(rows) == 0:
            raise IndexError(f"batch {index} is past the end of an epoch of {self.n} examples")
        return self.dataset.draw(self.split, rows, self.seed, epoch, index)


class ArrayBatches(keras.utils.PyDataset):
    """Batches of `epoch_examples(source, seed, shuffle, epoch)` for epochs `first_epoch`, … (`fit`
    runs them); of a `Stream`, each batch drawn when asked for, by several threads. Needs no
    TensorFlow: the JAX and torch backends train from it."""

    def __init__(self, source, batch_size, seed=0, shuffle=True, first_epoch=0):
        streamed = isinstance(source, Stream)
        super().__init__(workers=min(4, os.cpu_count() or 1) if streamed else 1)
        self.source, self.batch_size, self.seed, self.shuffle = source, batch_size, seed, shuffle
        self.epoch, self.streamed = first_epoch, streamed
        if not streamed:
            self.examples = self._epoch(first_epoch)
            self._drawer = ThreadPoolExecutor(1)  # draws the next epoch while this one trains
            self._next = self._drawer.submit(self._epoch, first_epoch + 1)

    def _epoch(self, epoch):
        """Epoch `epoch`'s examples in visiting order (a `LengthBuckets`' with their lengths)."""
        if not isinstance(self.source, LengthBuckets):
            return epoch_examples(self.source, self.seed, self.shuffle, epoch)
        lengths = self.source.lengths
        rows = (bucketed_order(lengths, self.batch_size, self.seed, epoch) if self.shuffle
                else np.arange(len(lengths)))
        return keras.tree.map_structure(lambda a: a[rows], (self.source.arrays, lengths))

    def __len__(self):
        n = len(self.source) if self.streamed else len(keras.tree.flatten(self.examples)[0])
        return -(-n // self.batch_size)

    def __getitem__(self, i):
        if self.streamed:
            return tuple(for_model(a) for a in self.source.batch(self.epoch, i, self.batch_size, self.shuffle))
        rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
        if isinstance(self.source, LengthBuckets):
            arrays, lengths = self.examples
            batch = keras.tree.map_structure(lambda a: for_model(a[rows]), arrays)
            return self.source.cut(batch, lengths[rows])
        return keras.tree.map_structure(lambda a: for_model(a[rows]), self.examples)

    def on_epoch_end(self):
        self.epoch += 1
        if not self.streamed:
            self.examples = self._next.result()
            self._next = self._drawer.submit(self._epoch, self.epoch + 1)


def batches(source, batch_size, seed=0, shuffle=True, epochs=1, first_epoch=0):
    """Batches of `epoch_examples` for `fit`, epochs `first_epoch` … `epochs` − 1 (None: no end;
    batches never straddle two epochs): a tf.data.Dataset on the TensorFlow backend
    (tf.distribute shards it), else an `ArrayBatches`, which needs no TensorFlow; `LengthBuckets`
    always as an `ArrayBatches` (its batches differ in shape)."""
    if keras.backend.backend() == "tensorflow" and not isinstance(source, LengthBuckets):
        return tf_batches(source, batch_size, seed, shuffle, epochs, first_epoch)
    return ArrayBatches(source, batch_size, seed, shuffle, first_epoch)


def tf_batches(source, batch_size, seed=0, shuffle=True, epochs=1, first_epoch=0):
    """`batches` as a tf.data.Dataset on any backend."""
    import tensorflow as tf

    if isinstance(source, Stream):
        return _tf_stream(source, batch_size, shuffle, epochs, first_epoch)
    first = source(first_epoch) if callable(source) else source
    flat = keras.tree.flatten(first)
    n = len(flat[0])
    if n < 1:
        raise ValueError(f"cannot batch an empty split (n = {n})")
    specs = [tf.TensorSpec(a.shape, tf.as_dtype(a.dtype)) for a in flat]

    def examples(epoch):
        return keras.tree.flatten(epoch_examples(source, seed, shuffle, int(epoch)))

    def cast_batch(*batch):
        return tf.nest.map_structure(lambda t: for_model(t, tf.cast), batch)

    def one_epoch(epoch):
        tensors = tf.numpy_function(examples, [epoch], [spec.dtype for spec in specs], stateful=False)
        for tensor, spec in zip(tensors, specs):
            tensor.set_shape(spec.shape)
        arrays = tf.nest.pack_sequence_as(first, tensors)
        return tf.data.Dataset.from_tensor_slices(arrays).batch(batch_size).map(cast_batch)

    if epochs is None:
        return tf.data.Dataset.counter(first_epoch).flat_map(one_epoch).prefetch(tf.data.AUTOTUNE)
    steps = -(-n // batch_size) * max(epochs - first_epoch, 0)
    ds = tf.data.Dataset.range(first_epoch, epochs).flat_map(one_epoch)
    return ds.apply(tf.data.experimental.assert_cardinality(steps)).prefetch(tf.data.AUTOTUNE)


def _tf_stream(stream, batch_size, shuffle, epochs, first_epoch):
    """`tf_batches` of a `Stream`: each batch drawn by `Stream.batch` (in parallel, in order)."""
    import tensorflow as tf

    steps = -(-len(stream) // batch_size)
    if steps < 1:
        raise ValueError(f"cannot batch an empty split (n = {len(stream)})")
    shape = tuple(stream.dataset.info()["image_shape"])

    def draw(epoch, index):
        return stream.batch(int(epoch), int(index), batch_size, shuffle)

    def one_batch(epoch, index):
        images, labels = tf.numpy_function(draw, [epoch, index], [tf.uint8, tf.int64], stateful=False)
        images.set_shape((None, *shape))
        labels.set_shape((None,))
        return for_model(images, tf.cast), for_model(labels, tf.cast)

    def one_epoch(epoch):
        return tf.data.Dataset.range(steps).map(lambda index: (epoch, index))

    all_epochs = tf.data.Dataset.counter(first_epoch) if epochs is None else tf.data.Dataset.range(first_epoch, epochs)
    ds = all_epochs.flat_map(one_epoch).map(one_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if epochs is not None:
        ds = ds.apply(tf.data.experimental.assert_cardinality(steps * max(epochs - first_epoch, 0)))
    return ds.prefetch(tf.data.AUTOTUNE)


def chunks(name, split="test", seed=0, limit=None):
    """(images, labels) of the first `limit` examples of an image dataset's split, 1,000 at a time:
    the bytes of `load_arrays(name, split, seed, limit=limit)`, without holding a streamed split."""
    return get(name, "load_arrays").chunks(split, seed, limit)


def dataset(name, split="train", batch_size=128, seed=0, shuffle=None, source="auto", data_dir=None, limit=None,
            epochs=1, first_epoch=0):
    """tf.data.Dataset of the batches of an array dataset, as `for_model` casts them: (images float32
    (B, H, W, 1) in [0, 1], labels int32 (B,)) for images, ids as int32 for corpora and sequences.

    `shuffle` defaults to True for train: each epoch in its own order, a function of `seed` and
    the epoch number (`epoch_order`). `epochs` passes (None: endless), starting at
    `first_epoch`. `limit` keeps the first N examples of the split.
    """
    arrays = get(name, "load_arrays").load(split, seed, limit, source, data_dir)
    if shuffle is None:
        shuffle = split == "train"
    return tf_batches(arrays, batch_size, seed, shuffle, epochs, first_epoch)


def fresh_draws(name, split="train", seed=0, limit=None):
    """`draw(epoch)` → the arrays of generated dataset `name` drawn with seed `seed + epoch`: every
    epoch places the items anew (new positions, new clutter), epoch 0 being `load_arrays(name,
    split, seed)`. Augmentation for the small splits (MNIST 5k) that a fixed draw overfits."""
    source = get(name, "load_arrays")
    if not source.seeded:
        raise ValueError(f"fresh draws need generated data that the seed changes (e.g. 'cluttered100_mnist5k'); "
                         f"{name!r} is read as it is")
    if getattr(source, "streamed", False):  # too big to hold: one batch at a time (`Stream`)
        return Stream(source, split, seed, limit)
    return lambda epoch: source.load(split, seed + int(epoch), limit)
