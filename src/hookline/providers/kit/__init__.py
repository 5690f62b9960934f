"""What every provider builds its credentials, accounts and watchdog from, written once.

- credentials.py: masked hints, the SecretBox of HOOKLINE_SECRET_KEY, and ReloadingCache, the hot-path
  cache of credentials (reloaded every `ttl` seconds, and at once on a miss)
- accounts.py: SealedAccountStore, an accounts table whose secrets are sealed by the SecretBox
- watchdog.py: one pass at a time across processes, and the loop that runs a pass every interval
"""
