"""Registrations: capacity, waiting list, approval, custom questions, self-service, roster."""
