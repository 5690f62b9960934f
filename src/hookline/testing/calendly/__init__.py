"""The fake Calendly API and its simulator."""
