"""Providers are plugins: everything that knows one SaaS tool lives in its own sub-package."""
