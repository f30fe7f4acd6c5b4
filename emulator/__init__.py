"""Local fakes of Segment and Pushwoosh, and the pieces they share."""
