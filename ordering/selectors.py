"""Conversations, the agent, order flows: reads, as querysets and plain values for views, tasks and other apps."""
