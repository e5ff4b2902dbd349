"""tuner: what users touch (Optuna sampler, scikit-learn wrapper, CLI, benchmarks)."""
