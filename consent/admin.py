"""Consent grants, spend caps, vault-only payment methods, step-up.

The staff console pages. Actions call services; they never save models directly.
"""
