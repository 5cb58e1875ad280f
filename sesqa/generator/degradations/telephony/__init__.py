"""The telephony pool: speech codecs, packet loss, jitter-buffer warping, channels and call chains.

Beyond the paper's 37 (which hold no speech codec below Opus and no packet loss), these are the
conditions of calls, conferencing and voice bots. Each module registers one degradation with
`pool = "telephony"`; importing this package registers them all, after the paper's, in module
order, then `call_chain` (it is made of the others), then those added since (`LATER`), so that
the registry position of the earlier ones, which seeds `sesqa sweep`'s draws, does not move.
"""

import importlib
import pkgutil

LATER = ("call_chain", "competing_talker")
"""Registered last, in this order; a new module goes at the end."""

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_") and _module.name not in LATER:
        importlib.import_module(f"{__name__}.{_module.name}")
for _name in LATER:
    importlib.import_module(f"{__name__}.{_name}")
