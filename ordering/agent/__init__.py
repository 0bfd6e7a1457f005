"""The ordering agent: the tools a planner may call, the turn they run in, and the dialog managers.

`tools.TOOLS` is everything a planner can do (no tool places an order); `turn.Turn` runs tool calls
(schema-checked, recorded with their rationale) and collects what the assistant says; `dialog`
holds the deterministic `ParserPlanner` and picks the LLM planner when one is configured;
`pipeline.turn_run` is one customer turn: hand-over and typed confirmations are decided by code
before any planner runs, auto-checkout after it.
"""
