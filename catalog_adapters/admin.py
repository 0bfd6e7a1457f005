"""The merchant contract, the HTTP client base, the ACP client.

The staff console pages. Actions call services; they never save models directly.
"""
