"""Stacked attention (Yang et al. 2016): every hop against a NumPy reference of the paper's
equations with the layer's own weights, masking, a gradient into every hop, serialisation."""

import keras
import numpy as np
import pytest

from layers import StackedAttention
from tests.helpers import gradient

RNG = np.random.default_rng(0)
QUERY = RNG.normal(size=(3, 5)).astype("float32")
VALUES = RNG.normal(size=(3, 6, 5)).astype("float32")
MASK = np.array([[True] * 6, [True, False, True, False, True, True], [False] * 6])  # full, holes, fully masked


def reference(layer, query, values, mask=None):
    """u^K and every hop's p_I, from the paper's equations in NumPy with the layer's weights."""
    weights = {w.name: np.asarray(w) for w in layer.weights}
    mask = np.ones(values.shape[:2], bool) if mask is None else mask
    u, attention = query.astype("float64"), []
    for k in range(1, layer.hops + 1):
        h_A = np.tanh(values @ weights[f"W_I_{k}"] + (u @ weights[f"W_Q_{k}"] + weights[f"b_A_{k}"])[:, None, :])
        scores = np.where(mask, (h_A @ weights[f"W_P_{k}"])[..., 0], -np.inf)
        top = np.max(scores, -1, keepdims=True)
        e = np.where(mask, np.exp(scores - np.where(np.isfinite(top), top, 0.0)), 0.0)
        p = e / np.maximum(e.sum(-1, keepdims=True), 1e-300)
        u = np.einsum("bn,bnd->bd", p, values) + u
        attention.append(p)
    return u, np.stack(attention, 1)


def with_random_biases(layer):
    """Non-zero b_A (zeros at initialisation), so the reference checks where the bias goes."""
    for w in layer.weights:
        if w.name.startswith("b_A"):
            w.assign(RNG.normal(size=w.shape).astype("float32"))
    return layer


@pytest.mark.parametrize("hops", [1, 2])
def test_every_hop_against_numpy(hops):
    layer = StackedAttention(4, hops=hops)
    layer.build(QUERY.shape, VALUES.shape)
    with_random_biases(layer)
    u, p = (np.asarray(o) for o in layer(QUERY, VALUES))
    want_u, want_p = reference(layer, QUERY, VALUES)
    assert p.shape == (3, hops, 6) and u.shape == (3, 5) and len(layer.trainable_weights) == 4 * hops
    np.testing.assert_allclose(p, want_p, atol=1e-5)
    np.testing.assert_allclose(u, want_u, atol=1e-5)
    np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-5)
    if hops == 2:  # each hop has its own weights, and the second hop reads the refined query
        assert not np.allclose(p[:, 0], p[:, 1])


def test_masked_cells_get_no_weight_and_a_fully_masked_row_passes_the_query_through():
    layer = StackedAttention(4, hops=2)
    layer.build(QUERY.shape, VALUES.shape)
    with_random_biases(layer)
    u, p = (np.asarray(o) for o in layer(QUERY, VALUES, mask=MASK))
    want_u, want_p = reference(layer, QUERY, VALUES, MASK)
    np.testing.assert_allclose(p, want_p, atol=1e-5)
    np.testing.assert_allclose(u, want_u, atol=1e-5)
    assert np.all(p[:, 0][~MASK] == 0.0) and np.all(p[:, 1][~MASK] == 0.0)
    np.testing.assert_allclose(p[:2].sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(u[2], QUERY[2], atol=1e-6)


def test_the_loss_reaches_every_hops_weights():
    layer = StackedAttention(4, hops=2)
    layer.build(QUERY.shape, VALUES.shape)

    def loss(trainable):
        (u, _), _ = layer.stateless_call(trainable, [], QUERY, VALUES)
        return keras.ops.sum(keras.ops.square(u)), None

    grads, _ = gradient(loss, [v.value for v in layer.trainable_variables])
    assert all(np.abs(g).max() > 0 for g in grads), [w.name for w, g in zip(layer.weights, grads) if not g.any()]


def test_bad_arguments():
    with pytest.raises(ValueError, match="hops must be at least 1"):
        StackedAttention(4, hops=0)
    with pytest.raises(ValueError, match=r"expected query \(batch, d\) and values \(batch, cells, d\) of one width"):
        StackedAttention(4)(QUERY[:, :4], VALUES)


def test_round_trip_through_a_keras_file(tmp_path):
    query, values, mask = keras.Input((5,)), keras.Input((6, 5)), keras.Input((6,), dtype="bool")
    layer = StackedAttention(4, hops=2, name="san")
    model = keras.Model([query, values, mask], layer(query, values, mask=mask))
    with_random_biases(layer)
    model.save(tmp_path / "san.keras")
    loaded = keras.saving.load_model(tmp_path / "san.keras", safe_mode=True)
    assert type(loaded.get_layer("san")) is StackedAttention and loaded.get_layer("san").get_config() == layer.get_config()
    data = [QUERY, VALUES, MASK]
    for got, want in zip(loaded(data), model(data)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-6)
