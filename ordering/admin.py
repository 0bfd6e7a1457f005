"""Conversations, the agent, order flows.

The staff console pages. Actions call services; they never save models directly.
"""
