"""The privacy notice and the legal notice (Impressum), as the operator fills them in."""
