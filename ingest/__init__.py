"""Turns the documents in corpus/ into an index (chunks + program catalog in Chroma)."""
