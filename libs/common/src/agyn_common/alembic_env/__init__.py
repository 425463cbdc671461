"""The Alembic environment every service migrates with: `env.py` and the revision template.

Alembic loads these by path (`script_location`); a service keeps only its revisions, in
`<package>/migrations/versions/`, which `agyn_common.migrations` passes as `version_locations`.
"""
