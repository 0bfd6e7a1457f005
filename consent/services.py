"""Consent grants, spend caps, vault-only payment methods, step-up.

Writes. Every change of state goes through a function here.
"""
