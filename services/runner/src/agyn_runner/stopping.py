class DaemonStopping(Exception):
    """The daemon is stopping: an endless stream ends (UNAVAILABLE; its caller resumes elsewhere)."""
