"""Conversations, the agent, order flows.

Celery tasks, thin: take ids, load the row, call one service; safe to run twice.
"""
