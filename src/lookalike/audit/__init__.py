"""Privacy attacks on synthetic data and the risks they measure."""
