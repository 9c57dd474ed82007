"""danlu.optim."""
