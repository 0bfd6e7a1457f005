"""The human-in-the-loop queue: Celery tasks, thin: take ids, load the row, call one service; safe to run twice."""
