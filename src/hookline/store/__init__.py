"""Storage: one schema, two engines (SQLite embedded default, PostgreSQL for scale-out)."""
