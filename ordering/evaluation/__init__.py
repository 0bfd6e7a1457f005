"""Evaluation of the assistant's understanding: single messages (messages.py) and whole tasks."""
