"""The merchant contract, the HTTP client base, the ACP client.

Writes. Every change of state goes through a function here.
"""
