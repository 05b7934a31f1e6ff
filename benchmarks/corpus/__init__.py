"""A labelled corpus of real PyTorch training runs: tasks, training, log writers, labels."""
