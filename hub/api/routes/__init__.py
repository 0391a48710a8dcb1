"""Thin route handlers, one module per resource; each exposes ``router``."""
