"""Operators: how one detected span is replaced. One per file, looked up by name (factory)."""
