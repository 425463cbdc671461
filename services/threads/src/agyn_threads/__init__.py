"""The Threads service."""
