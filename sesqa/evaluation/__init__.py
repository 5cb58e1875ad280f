"""Evaluation: how well a predictor agrees with labels, and the studies around the model (layer 5).

Folders and modules by job, lowest first; each imports only those above it in this list
(`tests/test_layers.py` asserts the order). The numbers themselves are `sesqa.measures`'.

- `peers/`: other predictors scored on the same files (DNSMOS, Distill-MOS), optional extras;
- `plots`: the PNG figures of `sesqa evaluate --plot` and `sesqa sweep --plot` (matplotlib on first use);
- `run/`: the parts of one `sesqa evaluate` run (options, inputs, scores joined to labels, results);
- `kfold/`: `sesqa evaluate --kfold`, the paper's cross-validation;
- `evaluate`: `sesqa evaluate` itself, one run or k-fold, printed and written;
- the jobs on top, which do not import each other: `latent/` (`sesqa latent`), `sweep`
  (`sesqa sweep`), `ablation` (`sesqa ablate`), `listeners` (agreement with listeners side by
  side, benchmarks/listeners.py).
"""
