"""Consent writes, one module per seam: `grants` (grants, spend caps, auto-checkout), `ledger` (the spend
ledger), `wallet` (saved cards, addresses, merchant accounts), `stepup` (authenticator apps), `notices`
(security e-mails), `profile` (the profile row and the audit record every service writes).

Every change of state goes through a function there, and each one that changes what the assistant may do
writes an audit event in the same transaction (so the event exists exactly when the change does).

Lock order, to stay free of deadlocks: the caller's own rows (an order flow) first, then a customer's
ConsentProfile row or a spend reservation row. audit_record takes no lock (one INSERT; the chain is
sealed later), so audit events may come before or after these services in a caller's transaction.

Import from the module that owns a function (`from consent.services.ledger import spend_reserve`).
"""
