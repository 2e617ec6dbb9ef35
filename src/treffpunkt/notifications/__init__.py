"""Notifications: the outbox of messages to send, the mail worker and message rendering."""
