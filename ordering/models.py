"""Conversations, the agent, order flows: models."""
