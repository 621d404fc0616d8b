"""Model builders, one module each. Importing this package imports every module in it, and each
registers its model with `zoo.registry` (`@register_model`): a new model needs no edit here."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
