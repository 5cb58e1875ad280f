"""What every command relies on while it runs, whatever it does (layer 0).

- `device`: where the model runs and in what precision (device picker, autocast, usable CPUs);
- `distributed_env`: which share of the work this process does (torchrun's RANK/WORLD_SIZE, a Slurm array task);
- `seeds`: the one seed rule (0 <= seed < 2**63) of every command that takes ``--seed``;
- `progress`: progress that fits where stderr goes (a bar on a terminal, plain lines in a log),
  logging set up once, records of worker processes forwarded to the parent;
- `files`: atomic writes (a temporary name, then a rename), so a kill never leaves half a file;
- `plotting`: matplotlib loaded on first use on the Agg backend, the one way sesqa draws.
"""
