"""Consent grants, spend caps, vault-only payment methods, step-up: models."""
