"""Append-only, hash-chained audit log: HTTP endpoints, thin: parse, call one service or selector, render."""
