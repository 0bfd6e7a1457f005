"""Consent grants, spend caps, vault-only payment methods, step-up.

HTTP endpoints, thin: parse, call one service or selector, render.
"""
