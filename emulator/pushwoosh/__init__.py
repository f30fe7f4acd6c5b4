"""The fake Pushwoosh: device and messaging APIs, targeting, templating and delivery simulation."""
