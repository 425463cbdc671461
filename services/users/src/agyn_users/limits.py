"""Length limits of the strings this service stores, shared by the RPCs and the token commands."""

MAX_NAME = 256
MAX_EMAIL = 320
MAX_URL = 2048
