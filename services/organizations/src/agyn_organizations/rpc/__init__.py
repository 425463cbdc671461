"""Request handling of the organizations deployable's RPCs, per resource group."""
