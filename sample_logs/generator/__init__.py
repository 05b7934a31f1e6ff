"""The pieces of sample_logs/generate.py: training, the writers, and reading each sample back."""
