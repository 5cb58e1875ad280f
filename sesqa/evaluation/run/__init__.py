"""The parts of one `sesqa evaluate` run, which k-fold (`evaluation.kfold`) reuses for every fold.

- `config`: `EvaluateConfig`, the command's options, checked before anything is scored;
- `tables`: prediction CSVs read and joined to labels and pairs by path;
- `inputs`: the labels, pairs and strengths lists read (through `sesqa.labels`), their audio scored;
- `shard_scores`: generated quadruples scored by a model (four 1 s frames each);
- `joins`: one predictor's scores joined to the inputs, then evaluated (`sesqa.measures`);
- `results`: what a run found (`EvaluationRun`) and the files that keep it;
- `figures`: the PNG figures of one predictor (`--plot`);
- `peer`: a peer (`evaluation.peers`) on the same files, reported beside sesqa.

`evaluation.evaluate` puts them together (one run, or k-fold).
"""
