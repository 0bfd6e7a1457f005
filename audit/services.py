"""Append-only, hash-chained audit log: writes. Every change of state goes through a function here."""
