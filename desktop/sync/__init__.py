"""Talking to the credit server: HTTP client, API, sign-in and tokens (OS keyring), catalog sync,
downloads, the completion outbox, content packs and prefetch. No Qt."""
