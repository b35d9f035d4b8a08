"""Pure-PyTorch models, one file per algorithm, each with its recipe and shipped checkpoints."""
