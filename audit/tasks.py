"""Append-only, hash-chained audit log.

Celery tasks, thin: take ids, load the row, call one service; safe to run twice.
"""
