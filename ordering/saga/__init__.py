"""The placement saga: check consent → reserve spend → score risk → verify price → mint token → complete.

One Celery task (`ordering.flow_advance`) runs the flow on while its next step is ready: the local
steps (consent, spend, risk) together in one transaction, then each merchant step, never holding a
row lock across a merchant call.

A worker that dies mid-step leaves its lease to run out; the sweeper on beat then resumes the flow
from its recovery point (`next_step`) with the same keys, so the merchant never places twice.
Compensations run in reverse registration order and tolerate "it never happened".

A refusal by our own circuit breaker or outbound rate limit sends nothing to the merchant: it is no
attempt, neither of a step nor of an undo step. The step or undo comes back when the breaker half-opens
(`MerchantError.retry_after`), within a deadline (ORDERING_STEP_GIVE_UP_SECONDS for a step,
ORDERING_UNDO_GIVE_UP_SECONDS for an undo step), so a short merchant outage neither fails a flow on
refusals nor escalates its undo; a long one still does, after the deadline.

One module per seam; import each name from the module that owns it (this package re-exports nothing):

- `base`: the steps' names, the claim, the token request, the step history, the keys, the retry timing;
- `outcomes`: what a step can answer, and what each answer does to the flow;
- `steps`: the six steps and the undo each registers before it runs;
- `engine`: claim / run / finish (`flow_run`, `flow_run_next_step`);
- `undo`: the compensations (`flow_compensate_run`);
- `sweeper`: `flows_sweep`, on beat;
- `resumes`: a flow waiting for someone goes on (`flow_staff_approve`, `flow_payment_verified`,
  `flow_staff_verify_payment`, `flow_staff_retry_compensations`).
"""
