"""`sesqa latent`: the latent space z of a model on generated quadruples (the paper's appendix E).

- `space`: embed the quadruples' frames, distances between kinds of frame pairs (Fig. 2), t-SNE
  (Fig. 3), the run and its CSVs;
- `plots`: the two figures.
"""
