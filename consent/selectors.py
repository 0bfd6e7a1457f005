"""Consent grants, spend caps, vault-only payment methods, step-up.

Reads, as querysets and plain values for views, tasks and other apps.
"""
