"""Append-only, hash-chained audit log: reads, as querysets and plain values for views, tasks and other apps."""
