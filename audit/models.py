"""Append-only, hash-chained audit log: models."""
