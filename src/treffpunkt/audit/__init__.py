"""The audit trail: who changed which event, registration or account, when, and how."""
