"""Passwordless sign-in: one-time codes, session tokens, and changing an account's address."""
