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
from layers.sampler import bilinear_sample, normalized_to_pixel
from layers.spatial_transformer import SpatialTransformer, sample_grid, transform_grid

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
    "SpatialTransformer",
    "apply_filters",
    "bilinear_sample",
    "normalized_to_pixel",
    "sample_grid",
    "transform_grid",
]
