"""Text classification: fastText-compatible tools, neural classifiers, multi-label."""
