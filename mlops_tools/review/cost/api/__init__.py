"""Price-API clients, one per cloud; each maps a snapshot key to a query and returns a snapshot entry."""
