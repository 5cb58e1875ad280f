"""The numbers of an evaluation: scores and labels in, figures with intervals out (no files, no models).

- `mos_metrics`: L_MOS, MSE, LCC, SRCC, KTAU at utterance and system level (weighted, for resamples);
- `bootstrap`: percentile-bootstrap intervals;
- `p1401`: ITU-T P.1401's first-order map to the MOS scale and the RMSE after it;
- `report`: the evaluation report (SPEC sections 7 and 8), every figure with its interval, E_TOTAL last;
- `report_format`: the report as a text table and as JSON.

The point measures (L_MOS, R_RANK, L_CONS, E_TOTAL) and their input checks are `sesqa.criteria`'s,
shared with the training losses and validation.
"""
