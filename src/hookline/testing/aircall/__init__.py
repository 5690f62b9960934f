"""The fake Aircall API and its simulator."""
