"""danlu.nn."""
