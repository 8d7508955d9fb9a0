"""Deployment helpers that run next to the bot (not part of the bot package itself)."""
