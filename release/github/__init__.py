"""GitHub: the REST client for releases."""
