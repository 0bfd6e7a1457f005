"""`make bench` (`manage.py bench`): the measures of issue #15 side by side with a floor and a peer.

Modules:
- `report`: samples, medians with their spread, the table and its JSON.
- `environment`: the run's own databases (bench_*), Redis index and processes (web, workers, sandbox).
- `customers`: customers of the sandbox shop and of ours, signed in, for the load runs.
- `llm`: the scripted OpenAI-compatible server both sides call.
- `inprocess`: rows measured inside this process (turn server time, queries, merchant and LLM calls).
- `load`: the HTTP load client (chat sessions with think time, and the floor).
- `orders`: placed orders/s against a Celery chain of comparable writes, 1 and 2 worker processes.
- `audit_rate`: audit events/s from N writer processes.
- `peer/`: the LangGraph peer turn, run in its own virtualenv under var/.
- `floor` / `urls`: the bare DRF view (one insert, one update), served only by the bench's settings.
"""
