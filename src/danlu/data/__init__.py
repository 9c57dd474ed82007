"""danlu.data."""
