"""Publishing: the index and its simple API, the upload plan, credentials (trusted publishing
with ``id``, or an API token), twine uploads with retries, and the local rehearsal."""
