"""The admin JSON API, health endpoints and (later) the dashboard."""
