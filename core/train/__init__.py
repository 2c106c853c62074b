"""Training data and training: synthetic people, datasets, the reconstruction network's training loop."""
