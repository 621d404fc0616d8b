"""Attention mechanisms: masking, scores against numpy, local windows, the β gate, the doubly
stochastic penalty, hard attention's sampling and REINFORCE gradient path, serialisation."""

import keras
import numpy as np
import pytest
from keras import ops

from layers.attention import (
    AdditiveAttention,
    HardAttention,
    LocalAttention,
    MovingAverageBaseline,
    MultiplicativeAttention,
    SoftAttention,
    doubly_stochastic_penalty,
    reinforce_loss,
)
from tests.helpers import gradient

RNG = np.random.default_rng(0)
QUERY = RNG.normal(size=(3, 5)).astype("float32")
VALUES = RNG.normal(size=(3, 7, 5)).astype("float32")
MASK = np.array([[True] * 7, [True] * 4 + [False] * 3, [False] * 7])  # full, padded, fully masked
POSITION = np.array([1, 3, 0], "int32")

MECHANISMS = {
    "additive": lambda: (AdditiveAttention(6), {}),
    "dot": lambda: (MultiplicativeAttention("dot"), {}),
    "general": lambda: (MultiplicativeAttention("general"), {}),
    "concat": lambda: (MultiplicativeAttention("concat", units=6), {}),
    "local_m": lambda: (LocalAttention(2, "m", score="dot"), {"position": POSITION}),
    "local_p": lambda: (LocalAttention(2, "p", units=6), {}),
    "soft": lambda: (SoftAttention(6), {}),
    "hard_sampled": lambda: (HardAttention(6, seed=1), {"training": True}),
    "hard_expected": lambda: (HardAttention(6, seed=1), {}),
}


def softmax(e, mask):
    e = np.where(mask, e, -np.inf)
    w = np.exp(e - e.max(-1, keepdims=True))
    return w / w.sum(-1, keepdims=True)


def weight_gradients(layer, loss_fn, *args, **kwargs):
    """d loss_fn(outputs) / d trainable weights, through `stateless_call`, and the outputs."""
    non_trainable = [v.value for v in layer.non_trainable_variables]

    def fn(trainable):
        outputs, _ = layer.stateless_call(trainable, non_trainable, *args, **kwargs)
        return loss_fn(outputs), outputs

    grads, outputs = gradient(fn, [v.value for v in layer.trainable_variables])
    return dict(zip([w.name for w in layer.trainable_weights], grads)), [np.asarray(o) for o in outputs]


@pytest.mark.parametrize("name", MECHANISMS)
def test_alpha_is_a_distribution_over_valid_positions_and_zero_on_masked_ones(name):
    layer, kwargs = MECHANISMS[name]()
    context, alpha, *_ = [np.asarray(o) for o in layer(QUERY, VALUES, mask=MASK, **kwargs)]
    assert np.all(np.isfinite(context)) and np.all(np.isfinite(alpha))
    assert np.all(alpha[~MASK] == 0.0)
    assert np.all(context[2] == 0.0)  # the fully masked row
    sums = alpha.sum(-1)[:2]
    if name == "local_p":  # the Gaussian multiplies the normalised window weights
        assert np.all((sums > 0) & (sums <= 1 + 1e-6))
    else:
        np.testing.assert_allclose(sums, 1.0, atol=1e-5)
    unmasked = np.asarray(MECHANISMS[name]()[0](QUERY, VALUES, **kwargs)[1])
    assert np.all(np.isfinite(unmasked)) and np.all(unmasked.sum(-1) <= 1 + 1e-5)


def test_masking_is_safe_in_float16():
    layer = AdditiveAttention(6, dtype="mixed_float16")
    context, alpha = layer(QUERY, VALUES, mask=MASK)
    alpha = np.asarray(alpha)
    assert alpha.dtype == np.float16 and np.all(np.isfinite(alpha)) and np.all(np.isfinite(np.asarray(context)))
    assert np.all(alpha[~MASK] == 0.0)
    np.testing.assert_allclose(alpha.sum(-1)[:2].astype("float32"), 1.0, atol=1e-2)


def test_additive_scores_against_numpy():
    layer = AdditiveAttention(6)
    context, alpha = layer(QUERY, VALUES, mask=MASK)
    W_a, U_a, v_a = (np.asarray(w) for w in (layer.W_a, layer.U_a, layer.v_a))
    e = (np.tanh((QUERY @ W_a)[:, None] + VALUES @ U_a) @ v_a)[..., 0]
    expected = softmax(e[:2], MASK[:2])
    np.testing.assert_allclose(np.asarray(alpha)[:2], expected, atol=1e-5)
    np.testing.assert_allclose(np.asarray(context)[:2], np.einsum("bl,bld->bd", expected, VALUES[:2]), atol=1e-5)


@pytest.mark.parametrize("score", ["dot", "general", "concat"])
def test_luong_scores_against_numpy(score):
    layer = MultiplicativeAttention(score, units=6)
    alpha = np.asarray(layer(QUERY, VALUES)[1])
    if score == "dot":
        e = np.einsum("bd,bld->bl", QUERY, VALUES)
    elif score == "general":
        e = np.einsum("bd,de,ble->bl", QUERY, np.asarray(layer.W_a), VALUES)
    else:
        pairs = np.concatenate([np.broadcast_to(QUERY[:, None], (3, 7, 5)), VALUES], axis=-1)
        e = (np.tanh(pairs @ np.asarray(layer.W_a)) @ np.asarray(layer.v_a))[..., 0]
    np.testing.assert_allclose(alpha, softmax(e, np.ones_like(e, bool)), atol=1e-5)


def flat_local(mode, length=20, window=3):
    """A local attention layer whose scores are all equal (W_a = 0), over `length` positions."""
    layer = LocalAttention(window, mode, units=4)
    values = RNG.normal(size=(3, length, 5)).astype("float32")
    layer.build(QUERY.shape, values.shape)
    layer.W_a.assign(np.zeros(layer.W_a.shape, "float32"))
    return layer, values


def test_local_p_reads_a_gaussian_window_around_p_t():
    layer, values = flat_local("p")
    mask = np.arange(20)[None] < np.array([[20], [11], [5]])
    p_t = np.asarray(layer.aligned_position(QUERY, values, mask))
    hidden = np.tanh(QUERY @ np.asarray(layer.W_p)) @ np.asarray(layer.v_p)
    np.testing.assert_allclose(p_t, mask.sum(-1) / (1 + np.exp(-hidden[:, 0])), atol=1e-4)  # S · σ(…)

    alpha = np.asarray(layer(QUERY, values, mask=mask)[1])
    distance = np.arange(20)[None] - p_t[:, None]
    inside = (np.abs(distance) <= 3) & mask
    assert np.all(alpha[~inside] == 0.0) and np.all(alpha[inside] > 0.0)
    # Flat scores: align = 1 / (window size), times the Gaussian with σ = D/2.
    expected = np.exp(-(distance**2) / (2 * 1.5**2)) / inside.sum(-1, keepdims=True) * inside
    np.testing.assert_allclose(alpha, expected, atol=1e-5)
    nearest = np.clip(np.round(p_t), 0, mask.sum(-1) - 1)
    np.testing.assert_array_equal(alpha.argmax(-1), nearest)  # the peak is the valid position nearest p_t


def test_local_m_centres_the_window_on_the_given_step():
    layer, values = flat_local("m")
    alpha = np.asarray(layer(QUERY, values, position=np.array([0, 5, 19]))[1])
    expected = np.zeros((3, 20))
    expected[0, 0:4], expected[1, 2:9], expected[2, 16:20] = 1 / 4, 1 / 7, 1 / 4  # D = 3; no Gaussian in local-m
    np.testing.assert_allclose(alpha, expected, atol=1e-6)
    scalar = np.asarray(layer(QUERY, values, position=5)[1])
    np.testing.assert_allclose(scalar, np.broadcast_to(expected[1], (3, 20)), atol=1e-6)
    with pytest.raises(ValueError, match="needs `position`"):
        layer(QUERY, values)


def test_soft_attention_scores_and_beta_gate():
    layer = SoftAttention(6)
    context, alpha = (np.asarray(o) for o in layer(QUERY, VALUES, mask=MASK))
    W_a, W_h, b, w_e = (np.asarray(w) for w in (layer.W_a, layer.W_h, layer.b, layer.w_e))
    e = (np.tanh(VALUES @ W_a + (QUERY @ W_h + b)[:, None]) @ w_e)[..., 0]
    np.testing.assert_allclose(alpha[:2], softmax(e[:2], MASK[:2]), atol=1e-5)
    beta = np.asarray(layer.gate(QUERY))
    assert beta.shape == (3, 1) and np.all((beta > 0) & (beta < 1))
    np.testing.assert_allclose(context, beta * np.einsum("bl,bld->bd", alpha, VALUES), atol=1e-5)

    ungated = SoftAttention(6, gate=False)
    context, alpha = (np.asarray(o) for o in ungated(QUERY, VALUES))
    assert len(ungated.weights) == 4 and np.all(np.asarray(ungated.gate(QUERY)) == 1.0)
    np.testing.assert_allclose(context, np.einsum("bl,bld->bd", alpha, VALUES), atol=1e-5)


def test_doubly_stochastic_penalty_on_hand_made_alphas():
    alphas = np.array(
        [
            [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]],  # Σ_t α = (1.5, 1.5): 0.25 + 0.25
            [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]],  # Σ_t α = (2, 1): 1 + 0
        ],
        "float32",
    )
    assert float(doubly_stochastic_penalty(alphas)) == pytest.approx(0.75)
    assert float(doubly_stochastic_penalty(alphas, weight=2.0)) == pytest.approx(1.5)
    steps = np.array([[True, True, False], [True, True, False]])  # Σ_t α = (1, 1) and (2, 0)
    assert float(doubly_stochastic_penalty(alphas, mask=steps)) == pytest.approx(1.0)


def test_hard_attention_at_inference_is_the_soft_expected_context():
    soft, hard = SoftAttention(6), HardAttention(6)
    soft_context, soft_alpha = soft(QUERY, VALUES, mask=MASK)
    hard(QUERY, VALUES, mask=MASK)
    hard.set_weights(soft.get_weights())
    context, alpha, log_p = hard(QUERY, VALUES, mask=MASK, training=False)
    np.testing.assert_allclose(np.asarray(context), np.asarray(soft_context), atol=1e-6)
    np.testing.assert_allclose(np.asarray(alpha), np.asarray(soft_alpha), atol=1e-6)
    assert np.all(np.asarray(log_p) == 0.0)
    always_expected = np.asarray(HardAttention(6, expected_prob=1.0)(QUERY, VALUES, training=True)[2])
    assert np.all(always_expected == 0.0)


def test_hard_attention_samples_locations_with_probability_alpha():
    # Annotations a_i = e_i, no gate: the context is the one-hot of the sampled location.
    layer = HardAttention(4, gate=False, expected_prob=0.0, seed=7)
    query = np.repeat(RNG.normal(size=(1, 3)).astype("float32"), 4000, axis=0)
    values = np.broadcast_to(np.eye(5, dtype="float32"), (4000, 5, 5))
    context, alpha, log_p = (np.asarray(o) for o in layer(query, values, training=True))
    assert np.all(context.sum(-1) == 1.0)
    np.testing.assert_allclose(context.mean(0), alpha[0], atol=0.03)
    np.testing.assert_allclose(log_p, np.log(alpha[np.arange(4000), context.argmax(-1)]), atol=1e-5)
    mixed = np.asarray(HardAttention(4, seed=7)(query, values, training=True)[2])
    assert 0.45 < np.mean(mixed == 0.0) < 0.55  # the paper's 0.5 chance of the expected context


def test_reinforce_gradient_reaches_the_attention_mlp_but_not_through_the_sample():
    layer = HardAttention(4, gate=False, expected_prob=0.0, seed=3)
    values = np.broadcast_to(np.eye(7, dtype="float32"), (3, 7, 7))
    mask = MASK.copy()
    mask[2, :2] = True
    layer.build(QUERY.shape, values.shape)
    reward, baseline = np.array([1.0, -2.0, 0.5], "float32"), np.float32(0.25)

    grads, (context, alpha, _) = weight_gradients(
        layer, lambda out: reinforce_loss(out[2], reward, baseline, out[1]), QUERY, values, mask=mask, training=True
    )
    assert all(np.any(g != 0) for g in grads.values())  # W_a, W_h, b, w_e
    # The same gradient as −(R − b) · log α_s with s held fixed: the score-function estimator.
    s = context.argmax(-1)
    ref, _ = weight_gradients(
        layer,
        lambda out: ops.mean(-(reward - baseline) * ops.log(ops.take_along_axis(out[1], s[:, None], 1)[:, 0])),
        QUERY,
        values,
        mask=mask,
    )
    for name in grads:
        np.testing.assert_allclose(grads[name], ref[name], atol=1e-5)
    # The sampled context itself carries no gradient back to α.
    through_sample, _ = weight_gradients(layer, lambda out: ops.sum(out[0]), QUERY, values, mask=mask, training=True)
    assert all(np.all(g == 0) for g in through_sample.values())
    # Nor does the loss reach the reward or the baseline.
    (d_reward, d_baseline), _ = gradient(
        lambda xs: (reinforce_loss(np.log(alpha.max(-1)), xs[0], xs[1], alpha), None), [reward, baseline]
    )
    assert np.all(d_reward == 0) and np.all(d_baseline == 0)


def test_reinforce_loss_value():
    log_p = np.array([[-1.0, -0.5], [-2.0, 0.0]], "float32")  # summed over steps: −1.5, −2
    alpha = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]], "float32")  # entropies log 2 and 0
    loss = reinforce_loss(log_p, np.array([2.0, 1.0], "float32"), 1.0, alpha, entropy_weight=0.1)
    expected = np.mean([-(2.0 - 1.0) * -1.5 - 0.1 * np.log(2.0), -(1.0 - 1.0) * -2.0])
    assert float(loss) == pytest.approx(expected, abs=1e-6)


def test_moving_average_baseline_update_rule():
    baseline = MovingAverageBaseline()
    rewards = np.array([1.0, 3.0], "float32")  # mean 2
    assert float(baseline(rewards, training=True)) == 0.0  # b before this batch
    assert float(baseline(rewards, training=True)) == pytest.approx(0.2)  # 0.9·0 + 0.1·2
    assert float(baseline(rewards)) == pytest.approx(0.38)  # 0.9·0.2 + 0.1·2; no update at inference
    assert float(baseline(rewards)) == pytest.approx(0.38)


def test_bad_arguments():
    with pytest.raises(ValueError, match="score must be one of"):
        MultiplicativeAttention("cosine")
    with pytest.raises(ValueError, match="needs units"):
        MultiplicativeAttention("concat")
    with pytest.raises(ValueError, match="one width"):
        MultiplicativeAttention("dot")(QUERY, VALUES[..., :4])
    with pytest.raises(ValueError, match="mode must be one of"):
        LocalAttention(2, "x", units=4)
    with pytest.raises(ValueError, match=r"expected query \(batch, query_dim\)"):
        AdditiveAttention(4)(QUERY[:, None], VALUES)


@pytest.mark.parametrize("name", MECHANISMS)
def test_round_trip_through_a_keras_file(name, tmp_path):
    layer, kwargs = MECHANISMS[name]()
    kwargs.pop("training", None)
    query, values, mask = keras.Input((5,)), keras.Input((7, 5)), keras.Input((7,), dtype="bool")
    inputs, data = [query, values, mask], [QUERY, VALUES, MASK]
    if "position" in kwargs:
        kwargs["position"] = keras.Input((), dtype="int32")
        inputs.append(kwargs["position"])
        data.append(POSITION)
    model = keras.Model(inputs, layer(query, values, mask=mask, **kwargs))
    model.save(tmp_path / "attention.keras")
    loaded = keras.saving.load_model(tmp_path / "attention.keras", safe_mode=True)
    assert type(loaded.layers[-1]) is type(layer)
    for got, want in zip(loaded(data), model(data)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-6)
