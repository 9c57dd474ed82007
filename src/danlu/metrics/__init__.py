"""danlu.metrics."""
