"""The Chat service."""
