"""The numbers: scores and labels in, measures with intervals out; numpy only, no files, no models (layer 0).

- `criteria`: the paper's measures (L_MOS, R_RANK, L_CONS, E_TOTAL) and the per-item formulas the
  training losses share with them, for numpy arrays and torch tensors alike (torch never imported);
- `mos_metrics`: L_MOS, MSE, LCC, SRCC, KTAU at utterance and system level (weighted, for resamples);
- `bootstrap`: percentile-bootstrap intervals;
- `p1401`: ITU-T P.1401's first-order map to the MOS scale and the RMSE after it;
- `report`: the evaluation report (SPEC sections 7 and 8), every figure with its interval, E_TOTAL last;
- `report_format`: the report as a text table and as JSON.

Here, below both, so that the trainer (losses, validation) and `sesqa.evaluation` compute every
measure with the same functions.
"""
