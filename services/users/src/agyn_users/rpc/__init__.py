"""Request handling per resource group: validate, authorize, call the store, convert."""
