"""Evaluation: `sesqa evaluate`'s figures (SPEC sections 7 and 8) and the run around them.

- Figures: `report` (R_RANK, L_CONS, E_TOTAL and the report), `mos_metrics` (L_MOS, MSE, LCC,
  SRCC, KTAU), `bootstrap` (intervals), `arrays` (input checks).
- Inputs: `tables` (label, pair and prediction CSVs), `peers` (DNSMOS), `shard_scores`
  (generated quadruples scored by a model).
- The command: `config`, `inputs`, `joins`, `results`, `figures`, `peer_run`, `kfold`, `run`.
"""
