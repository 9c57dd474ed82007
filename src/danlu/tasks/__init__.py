"""danlu.tasks."""
