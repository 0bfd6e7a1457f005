"""The human-in-the-loop queue: HTTP endpoints, thin: parse, call one service or selector, render."""
