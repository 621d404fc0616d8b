"""ST-CNN (Jaderberg et al. 2015): a Spatial Transformer in front of the CNN classifier.

p(y | U) = CNN(V),  V = sampler(U, T_θ(G)),  θ = f_loc(U).

The transformer learns to undo rotation, scale and translation before classification;
`return_attention=True` gives the transformed images and the sampling grids for plots.
"""

import keras

from layers import SpatialTransformer
from zoo.models.cnn import ConvNet
from zoo.registry import register_model


@register_model(
    "stn",
    task="classifier",
    summary="Spatial Transformer + CNN classifier (ST-CNN) for distorted images",
    paper="Jaderberg, Simonyan, Zisserman, Kavukcuoglu. Spatial Transformer Networks. NIPS 2015",
    default_weights="rts_fashion_mnist",
)
@keras.saving.register_keras_serializable(package="attention_zoo")
class STNClassifier(ConvNet):
    """The `cnn` classifier applied to the output of an affine (or projective) Spatial Transformer."""

    def __init__(
        self,
        image_shape=(42, 42, 1),
        num_classes=10,
        transform="affine",
        output_size=(42, 42),
        filters=(32, 64),
        kernel_size=5,
        units=128,
        dropout=0.25,
        class_names=None,
        pool_size=2,
        **kwargs,
    ):
        super().__init__(image_shape, num_classes, filters, kernel_size, units, dropout, class_names, pool_size, **kwargs)
        self.transform = transform
        self.output_size = tuple(int(s) for s in output_size)
        self.transformer = SpatialTransformer(self.output_size, transform=transform, return_grid=True, name="transformer")

    def call(self, images, training=None, return_attention=False):
        transformed, grid = self.transformer(self.check_images(images))
        probabilities = self.classifier(transformed, training=training)
        if return_attention:
            return probabilities, {"transformed": transformed, "grid": grid}
        return probabilities

    def picture(self, images, labels, path):
        """Inputs with the sampling region outlined, beside the transformer's outputs (PNG)."""
        from zoo.pictures import transformer_picture

        return transformer_picture(self, images, labels, path)

    def get_config(self):
        return {**super().get_config(), "transform": self.transform, "output_size": self.output_size}
