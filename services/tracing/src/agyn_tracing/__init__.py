"""The Tracing service."""
