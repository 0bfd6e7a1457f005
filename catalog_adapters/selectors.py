"""The merchant contract, the HTTP client base, the ACP client.

Reads, as querysets and plain values for views, tasks and other apps.
"""
