"""The merchant contract, the HTTP client base, the ACP client.

Celery tasks, thin: take ids, load the row, call one service; safe to run twice.
"""
