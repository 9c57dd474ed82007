"""danlu.functional."""
