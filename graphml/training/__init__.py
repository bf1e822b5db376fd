"""Training: RGCN and KGE trainers, metrics, Neptune-style HPO, artifacts."""
