"""The Notifications service."""
