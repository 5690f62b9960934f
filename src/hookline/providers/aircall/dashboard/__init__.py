"""Aircall's dashboard pages (live board, agents, calls, analytics, operations section)."""
