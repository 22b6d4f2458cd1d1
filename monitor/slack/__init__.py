"""The Slack side: the Bolt app (opt-in, App Home, buttons) and the outbox's Slack sender."""
