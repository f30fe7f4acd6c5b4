"""JSON Schemas and Pact contracts for Segment, Pushwoosh and the bridge."""
