"""danlu.train."""
