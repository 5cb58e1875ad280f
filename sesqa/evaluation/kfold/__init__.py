"""`sesqa evaluate --kfold K`: the paper's K-fold cross-validation on a MOS list.

- `folds`: the folds (by system within each MOS set, or a list's own), one training run per fold,
  its held-out files scored, the pooled, per-fold and per-set report;
- `held_out`: the paper's four figures (L_MOS, R_RANK, L_CONS, E_TOTAL) built from held-out files,
  and the per-fold table and ``figures.csv`` rows.
"""
