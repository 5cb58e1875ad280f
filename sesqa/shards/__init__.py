"""The shard format: the one contract between the generator (writer) and the trainer (reader).

A shard is a WebDataset tar: per quadruple, ``<key>.json`` (the record, see schema.py),
``<key>.i.flac`` and ``<key>.j.flac`` (x_i and x_j, each 1 s + delay long, 16-bit FLAC).
Beside the shards: ``manifest.json`` (settings and the vocabulary of degradation types, see
manifest.py) and ``stats.json`` (metric normalisation, stats.py with moments.py). Nothing here
imports the generator, so reading shards needs no degradation code.
"""

from .schema import SCHEMA, DegradationStep, QuadrupleRecord, ShardError
from .reader import QuadrupleSample, read_records, read_shard
from .writer import ShardWriter

__all__ = ["SCHEMA", "DegradationStep", "QuadrupleRecord", "QuadrupleSample", "ShardError", "ShardWriter", "read_records", "read_shard"]
