"""Conversations, the agent, order flows: HTTP endpoints, thin: parse, call one service or selector, render."""
