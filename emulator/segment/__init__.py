"""The fake Segment: Tracking API, warehouse, tracking plans and destination delivery."""
