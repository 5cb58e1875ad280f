"""Evaluation: `sesqa evaluate`'s figures (SPEC sections 7 and 8) and the run around them.

- Figures: `report` (every figure with its interval, E_TOTAL last), `report_format` (the report
  as text and JSON), `mos_metrics` (L_MOS, MSE, LCC, SRCC, KTAU over resamples), `bootstrap`
  (intervals). The point measures (L_MOS, R_RANK, L_CONS, E_TOTAL) and their input checks are
  `sesqa.criteria`'s, shared with trainer validation.
- Inputs: `tables` (prediction CSVs, joined to labels and pairs read by `sesqa.labels`),
  `peers` (DNSMOS), `shard_scores` (generated quadruples scored by a model).
- The command: `config`, `inputs`, `joins`, `results`, `figures`, `peer_run`, `kfold`, `run`.
"""
