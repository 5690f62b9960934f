"""The fake monday.com API and its simulator."""
