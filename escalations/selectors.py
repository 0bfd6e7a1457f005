"""The human-in-the-loop queue: reads, as querysets and plain values for views, tasks and other apps."""
