"""Task tools built on the library (each is a ``danlu`` subcommand)."""
