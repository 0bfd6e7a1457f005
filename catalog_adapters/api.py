"""The merchant contract, the HTTP client base, the ACP client.

HTTP endpoints, thin: parse, call one service or selector, render.
"""
