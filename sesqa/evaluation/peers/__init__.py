"""Peer predictors for `sesqa evaluate --peer` and the benchmarks: other models scored on the same files.

Two peers, optional extras never needed by sesqa itself: DNSMOS (`dnsmos`, through speechmos) and
Distill-MOS (`distill_mos`, installed without dependencies, imported only when asked for). What
every peer is and how one scores files is `base`'s. `PEERS` names them as ``--peer`` takes them.
"""

from __future__ import annotations

from collections.abc import Callable

from .base import Peer, PeerScores, PeerUnavailable, score_with_peer
from .dnsmos import DnsmosPeer


def _distill_mos() -> Peer:
    from .distill_mos import DistillMosPeer

    return DistillMosPeer()


PEERS: dict[str, Callable[[], Peer]] = {"dnsmos": DnsmosPeer, "distillmos": _distill_mos}
"""Peers by the name `--peer` takes: DNSMOS, and Distill-MOS (`distill_mos`)."""


def make_peer(name: str) -> Peer:
    """The peer called ``name``; ValueError for an unknown name, PeerUnavailable if not installed."""
    if name not in PEERS:
        raise ValueError(f"unknown peer {name!r}; choose from {', '.join(PEERS)}")
    return PEERS[name]()


__all__ = ["PEERS", "DnsmosPeer", "Peer", "PeerScores", "PeerUnavailable", "make_peer", "score_with_peer"]
