"""Consent grants, spend caps, vault-only payment methods, step-up.

Celery tasks, thin: take ids, load the row, call one service; safe to run twice.
"""
