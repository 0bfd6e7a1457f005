"""The human-in-the-loop queue: the staff console pages. Actions call services; they never save models directly."""
