"""Consent, spend-cap ceilings and step-up (consent). Filled in by the consent app."""
