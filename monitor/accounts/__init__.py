"""People, their accounts and their consent: one home for connecting, proving and leaving."""
