"""Kubernetes packaging of the platform: generated files, chart builds, offline checks."""
