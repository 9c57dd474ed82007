"""danlu.decoding."""
