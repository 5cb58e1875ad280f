"""The 37 degradations of the SESQA paper (appendix C), one module each.

Importing this package imports every module in it, and each module registers its class, so
`REGISTRY` is complete and is the single list of degradations.
"""

import importlib
import pkgutil

from .base import REGISTRY, AppliedDegradation, Degradation, DegradationError, SamplingContext

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_") and _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["REGISTRY", "AppliedDegradation", "Degradation", "DegradationError", "SamplingContext"]
