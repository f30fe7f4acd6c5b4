"""The `swoosh` command and the local stack that composes the fakes and the bridge."""
