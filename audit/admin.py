"""Append-only, hash-chained audit log.

The staff console pages. Actions call services; they never save models directly.
"""
