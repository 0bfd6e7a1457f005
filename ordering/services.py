"""Conversations, the agent, order flows: writes. Every change of state goes through a function here."""
