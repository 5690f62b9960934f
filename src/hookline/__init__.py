"""hookline: webhooks from SaaS tools as a dependable data source."""

__version__ = "0.1.0"
