"""The human-in-the-loop queue: models."""
