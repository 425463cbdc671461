"""The Runners service."""
