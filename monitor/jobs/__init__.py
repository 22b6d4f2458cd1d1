"""The jobs the daemon runs: the collection cycle, and the scheduler that times it.

Jobs take what they deliver through (the notifier) from their caller, so nothing here
imports a delivery channel; the SQL they need is asked of the store.
"""
