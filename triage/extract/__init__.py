"""Identifier extraction: account, order, execution and transaction ids, and the extras."""
