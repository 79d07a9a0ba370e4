"""Volunteers and the time bank (时间银行): verified service hours become points in an append-only point ledger
with the money ledger's discipline (balanced movements, idempotent postings, reversals, a verify command)."""
