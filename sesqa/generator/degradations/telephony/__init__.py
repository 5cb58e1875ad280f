"""The telephony pool: speech codecs, packet loss, jitter-buffer warping, channels and call chains.

Beyond the paper's 37 (which hold no speech codec below Opus and no packet loss), these are the
conditions of calls, conferencing and voice bots. Each module registers one degradation with
`pool = "telephony"`; importing this package registers them all, after the paper's, in module
order, with `call_chain` last (it is made of the others).
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_") and _module.name != "call_chain":
        importlib.import_module(f"{__name__}.{_module.name}")
importlib.import_module(f"{__name__}.call_chain")
