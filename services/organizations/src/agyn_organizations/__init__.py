"""The Organizations service."""
