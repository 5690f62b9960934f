"""Retention (what is deleted when, in small batches) and export/import of the log and projections."""
