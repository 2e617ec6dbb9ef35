"""The thin HTTP layer: app factory, auth, error mapping, templates."""
