"""Transformation half of de-id: codebook (keys, offsets, surrogates) and operators by name."""
