"""The Agents service."""
