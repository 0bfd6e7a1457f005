"""The rollout of the assistant: phases 0-3, the assistant-vs-checkout experiment, the kill switch.

- `assignment`: which phase is current and which arm a customer is in (stable bucketing), cached per
  process for `ORDERING_ROLLOUT_CACHE_SECONDS`.
- `events`: the funnel events (session, checkout, order) both arms record, for the A/B report.
"""
