"""Kapacitor operations: users, recordings, replays and storage backups (no AWS here)."""
