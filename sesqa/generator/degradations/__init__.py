"""The degradations, one module each: the SESQA paper's 37 (appendix C) here, the telephony
pool in `telephony/`.

Importing this package imports every module in it, and each module registers its class, so
`REGISTRY` is complete and is the single list of degradations: the paper's 37 first, in module
order, then the telephony pool's (`pools.py` says which a run draws from).
"""

import importlib
import pkgutil

from .base import REGISTRY, AppliedDegradation, Degradation, DegradationError, SamplingContext

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_") and _module.name not in ("base", "pools", "telephony"):
        importlib.import_module(f"{__name__}.{_module.name}")
importlib.import_module(f"{__name__}.telephony")

__all__ = ["REGISTRY", "AppliedDegradation", "Degradation", "DegradationError", "SamplingContext"]
