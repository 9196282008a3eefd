"""Turning documents (the bundled corpus or a user's files) into sourced chunks in the index."""
