"""Shipped entity model (weights, label map, meta, card): data files, loaded by streamproc.nlp.modeling."""
