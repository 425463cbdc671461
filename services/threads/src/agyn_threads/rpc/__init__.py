"""Request handling of ThreadsService, per resource group."""
