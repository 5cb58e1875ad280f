"""Corpus generator: clean speech + noise -> degraded quadruples -> WebDataset shards."""
