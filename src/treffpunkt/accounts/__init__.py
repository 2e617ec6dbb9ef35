"""Organisers, admins, API tokens and browser login."""
