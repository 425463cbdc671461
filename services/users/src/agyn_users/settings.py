from agyn_common.settings import ServiceSettings


class UsersSettings(ServiceSettings):
    """Users needs nothing beyond the common settings today."""
