"""Both directions of the Segment <-> Pushwoosh integration, durable and retrying."""
