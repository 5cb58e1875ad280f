"""sesqa: reference-free speech quality assessment trained semi-supervised (after SESQA, ICASSP 2021)."""

__version__ = "0.1.0"
