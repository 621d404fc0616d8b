"""Reusable Keras 3 attention layers, one module per mechanism, written in `keras.ops` only.

`layers` imports nothing else of the project.
"""

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
from layers.filterbank import GaussianReader, GaussianWriter, apply_filters, filterbank
from layers.glimpse import GlimpseNetwork, GlimpseSensor
from layers.mixture_density import MixtureDensity, mixture_parameters, negative_log_likelihood
from layers.sampler import bilinear_sample, normalized_to_pixel
from layers.soft_window import SoftWindow
from layers.spatial_transformer import SpatialTransformer, sample_grid, transform_grid
from layers.stacked_attention import StackedAttention

__all__ = [
    "AdditiveAttention",
    "HardAttention",
    "LocalAttention",
    "MovingAverageBaseline",
    "MultiplicativeAttention",
    "SoftAttention",
    "doubly_stochastic_penalty",
    "filterbank",
    "reinforce_loss",
    "GaussianReader",
    "GaussianWriter",
    "GlimpseNetwork",
    "GlimpseSensor",
    "MixtureDensity",
    "SoftWindow",
    "SpatialTransformer",
    "StackedAttention",
    "apply_filters",
    "bilinear_sample",
    "mixture_parameters",
    "negative_log_likelihood",
    "normalized_to_pixel",
    "sample_grid",
    "transform_grid",
]
