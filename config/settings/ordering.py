"""Order flows (ordering): the placement saga's timing and the risk rules' thresholds."""

from config.env import BASE_DIR, env_bool, env_int, env_str

# A worker holds a flow's current step for this long; longer than any merchant call with its retries.
ORDERING_STEP_LEASE_SECONDS = env_int("ORDERING_STEP_LEASE_SECONDS", 120)
# One task runs a flow on while its next step is ready, up to this many units (the local steps
# together count as one, each merchant step as one; a placement is 4) and this many seconds; then the
# flow goes back to the queue so the other flows of a burst get a worker too.
ORDERING_FLOW_UNITS_PER_TASK = env_int("ORDERING_FLOW_UNITS_PER_TASK", 8)
ORDERING_FLOW_SECONDS_PER_TASK = env_int("ORDERING_FLOW_SECONDS_PER_TASK", 30)
# Attempts of one step (transient merchant trouble) before the flow fails and compensates. Only calls
# that reached the merchant count: a refusal by our own circuit breaker or outbound rate limit (nothing
# was sent) is not an attempt; the step comes back when the breaker half-opens instead.
ORDERING_STEP_MAX_ATTEMPTS = env_int("ORDERING_STEP_MAX_ATTEMPTS", 5)
ORDERING_STEP_RETRY_BASE_SECONDS = env_int("ORDERING_STEP_RETRY_BASE_SECONDS", 2)
ORDERING_STEP_RETRY_MAX_SECONDS = env_int("ORDERING_STEP_RETRY_MAX_SECONDS", 60)
# How long a step may keep waiting on such refusals, counted from its first attempt, before the flow
# fails as merchant_unavailable: the customer is waiting in the chat, and the token lives 15 minutes.
ORDERING_STEP_GIVE_UP_SECONDS = env_int("ORDERING_STEP_GIVE_UP_SECONDS", 300)
# Undo steps (compensations: cancel the checkout session, revoke the token, release the spend, cancel
# an order) never escalate on refusals nor on a short outage. An undo step that keeps failing is
# retried with backoff up to ORDERING_STEP_MAX_ATTEMPTS real attempts, then by the sweeper on every
# pass, and escalates (compensation_failed, urgent) only once it has been failing for this long, counted
# from its first failure. A 4xx that retrying cannot fix escalates as soon as those attempts are spent.
# 10 minutes: well inside the merchant's 30-minute stock hold and the token's 15-minute life.
ORDERING_UNDO_GIVE_UP_SECONDS = env_int("ORDERING_UNDO_GIVE_UP_SECONDS", 600)
# The sweeper resumes a flow whose step lease ran out and that has not moved for this long; it also
# runs undo steps that are due (a lost retry, or past their attempts) and finishes a flow left in
# failed or compensating whose undo steps are all settled.
ORDERING_STUCK_AFTER_SECONDS = env_int("ORDERING_STUCK_AFTER_SECONDS", 60)
ORDERING_SWEEP_INTERVAL_SECONDS = env_int("ORDERING_SWEEP_INTERVAL_SECONDS", 30)
# The delegated payment token's life (DESIGN: 15 minutes).
ORDERING_PAYMENT_TOKEN_TTL_SECONDS = env_int("ORDERING_PAYMENT_TOKEN_TTL_SECONDS", 15 * 60)
# A complete the merchant took but has not finished (complete_in_progress, pending_approval, requires_escalation):
# its session is read again after 5 s, doubling up to 5 min; a person is asked after a day without an outcome.
ORDERING_MERCHANT_WAIT_POLL_BASE_SECONDS = env_int("ORDERING_MERCHANT_WAIT_POLL_BASE_SECONDS", 5)
ORDERING_MERCHANT_WAIT_POLL_MAX_SECONDS = env_int("ORDERING_MERCHANT_WAIT_POLL_MAX_SECONDS", 300)
ORDERING_MERCHANT_WAIT_ESCALATE_SECONDS = env_int("ORDERING_MERCHANT_WAIT_ESCALATE_SECONDS", 24 * 3600)

# Risk rules: points per signal; step-up (TOTP) from ORDERING_RISK_STEP_UP_SCORE, human review from
# ORDERING_RISK_REVIEW_SCORE.
ORDERING_RISK_FIRST_ORDER_POINTS = env_int("ORDERING_RISK_FIRST_ORDER_POINTS", 20)
ORDERING_RISK_NEW_ADDRESS_POINTS = env_int("ORDERING_RISK_NEW_ADDRESS_POINTS", 15)
ORDERING_RISK_VELOCITY_WINDOW_MINUTES = env_int("ORDERING_RISK_VELOCITY_WINDOW_MINUTES", 60)
ORDERING_RISK_VELOCITY_MAX_ORDERS = env_int("ORDERING_RISK_VELOCITY_MAX_ORDERS", 3)
ORDERING_RISK_VELOCITY_POINTS = env_int("ORDERING_RISK_VELOCITY_POINTS", 40)
# An order this many times the customer's average placed order (or, with no history, over the
# first-order amount in minor units) scores the amount points.
ORDERING_RISK_AMOUNT_MULTIPLE = env_int("ORDERING_RISK_AMOUNT_MULTIPLE", 3)
ORDERING_RISK_FIRST_ORDER_AMOUNT = env_int("ORDERING_RISK_FIRST_ORDER_AMOUNT", 25_000)
ORDERING_RISK_AMOUNT_POINTS = env_int("ORDERING_RISK_AMOUNT_POINTS", 30)
ORDERING_RISK_STEP_UP_SCORE = env_int("ORDERING_RISK_STEP_UP_SCORE", 50)
ORDERING_RISK_REVIEW_SCORE = env_int("ORDERING_RISK_REVIEW_SCORE", 80)
# A card or shipping address the customer (or whoever holds their session) added this recently makes the
# order need at least a step-up: these points alone reach ORDERING_RISK_STEP_UP_SCORE.
ORDERING_RISK_RECENT_INSTRUMENT_HOURS = env_int("ORDERING_RISK_RECENT_INSTRUMENT_HOURS", 24)
ORDERING_RISK_RECENT_INSTRUMENT_POINTS = env_int("ORDERING_RISK_RECENT_INSTRUMENT_POINTS", ORDERING_RISK_STEP_UP_SCORE)

# Policies (docs/operations.md, "Policies"): spend ceilings, risk rules and eligibility live in versioned
# files, ORDERING_POLICY_DIR/<version>.toml. The version in force is the one last activated
# (`manage.py policy_activate`, or the admin); with none activated, this one. Each process re-reads which
# version is active from the shared cache at most every ORDERING_POLICY_REFRESH_SECONDS (no database query
# on the hot path); a beat task re-publishes it from the database every ORDERING_POLICY_PUBLISH_SECONDS.
# The ORDERING_RISK_* settings above (and CONSENT_CAP_CEILINGS, CONSENT_AUTO_CHECKOUT_CEILING,
# CONSENT_STEPUP_WINDOW_MINUTES) are legacy overrides: one set to anything but its built-in default
# replaces that key of whichever policy is active, and `manage.py check` warns (consent.W010).
ORDERING_POLICY_VERSION = env_str("ORDERING_POLICY_VERSION", "risk-v2")
ORDERING_POLICY_DIR = env_str("ORDERING_POLICY_DIR", str(BASE_DIR / "policies"))
ORDERING_POLICY_REFRESH_SECONDS = max(env_int("ORDERING_POLICY_REFRESH_SECONDS", 5), 0)
ORDERING_POLICY_PUBLISH_SECONDS = max(env_int("ORDERING_POLICY_PUBLISH_SECONDS", 30), 1)

# The longest customer message the assistant reads; longer ones get a clear 400.
ORDERING_MESSAGE_MAX_CHARS = env_int("ORDERING_MESSAGE_MAX_CHARS", 2000)

# Chat turns run as background work on their own queue, so a burst of order placements (the default
# queue) cannot starve chat; a worker started without -Q consumes both (config/celery.py).
ORDERING_TURN_QUEUE = env_str("ORDERING_TURN_QUEUE", "turns")
# A turn stops starting new work after this many seconds, and every LLM or merchant request it makes is
# cut to the time left; well under the web server's timeout, as the synchronous mode runs turns in requests.
ORDERING_TURN_DEADLINE_SECONDS = env_int("ORDERING_TURN_DEADLINE_SECONDS", 15)
# Synchronous mode: the turn runs inside the request that posted the message (the answer is the same
# 202 body, already done). For tests and single-process setups; production runs turns on workers.
ORDERING_TURNS_INLINE = env_bool("ORDERING_TURNS_INLINE", False)
# A queued turn whose task was lost (a crash between commit and enqueue) is enqueued again by the sweep
# after this long, and given up (failed, with an apology) when the customer has waited this long.
ORDERING_TURN_REQUEUE_AFTER_SECONDS = env_int("ORDERING_TURN_REQUEUE_AFTER_SECONDS", 20)
ORDERING_TURN_GIVE_UP_AFTER_SECONDS = env_int("ORDERING_TURN_GIVE_UP_AFTER_SECONDS", 120)
# A retried post (same Idempotency-Key) of a turn still queued this long sends its task again at once
# (the widget retries after a 503 while the broker was down), instead of waiting for the sweep.
ORDERING_TURN_REPLAY_REQUEUE_AFTER_SECONDS = env_int("ORDERING_TURN_REPLAY_REQUEUE_AFTER_SECONDS", 3)
# The turn url's long-poll (`?wait=N`, ordering/turn_wait.py): the longest a request may wait for its turn to end,
# and how many requests of one web process may wait at once (config/gunicorn.py sets it below its threads so
# waiting polls never take the threads other requests need; without a free slot a poll answers at once).
ORDERING_TURN_WAIT_MAX_SECONDS = max(env_int("ORDERING_TURN_WAIT_MAX_SECONDS", 20), 0)
ORDERING_TURN_WAIT_SLOTS = max(env_int("ORDERING_TURN_WAIT_SLOTS", 24), 0)

# Stock holds (ordering/holds.py). Every cart or preview not confirmed yet keeps its items reserved at the
# merchant (the sandbox holds a session 30 minutes). A customer keeps at most this many such carts at a
# time, over all their conversations: starting one more releases the oldest (canceled at the merchant,
# the flow expired). At least 1.
ORDERING_MAX_OPEN_PREVIEWS = max(env_int("ORDERING_MAX_OPEN_PREVIEWS", 3), 1)
# A cart or preview whose conversation has been quiet this long is released by the beat's sweep (every
# ORDERING_SWEEP_INTERVAL_SECONDS), well before the merchant's own expiry; a later "yes" gets a fresh preview.
ORDERING_PREVIEW_IDLE_RELEASE_SECONDS = env_int("ORDERING_PREVIEW_IDLE_RELEASE_SECONDS", 10 * 60)

ORDERING_BEAT_SCHEDULE = {
    "ordering-sweep-turns": {"task": "ordering.turns_sweep", "schedule": 10.0},
    "ordering-resume-stuck-flows": {"task": "ordering.flows_sweep", "schedule": float(ORDERING_SWEEP_INTERVAL_SECONDS)},
    "ordering-release-idle-holds": {
        "task": "ordering.holds_release_idle",
        "schedule": float(ORDERING_SWEEP_INTERVAL_SECONDS),
    },
    "ordering-end-idle-sessions": {
        "task": "ordering.sessions_end_idle",
        "schedule": float(ORDERING_SWEEP_INTERVAL_SECONDS),
    },
    # Which policy version is active, from the database into the shared cache the processes read, so a
    # cache that lost the key (a flush, an eviction) has it back within this interval.
    "ordering-publish-active-policy": {
        "task": "consent.policy_publish_active",
        "schedule": float(ORDERING_POLICY_PUBLISH_SECONDS),
    },
    # Merchant order webhooks whose enqueue was lost, or that came before the saga recorded the order.
    "ordering-apply-merchant-order-events": {
        "task": "ordering.merchant_order_events_sweep",
        "schedule": float(ORDERING_SWEEP_INTERVAL_SECONDS),
    },
}

# Each new Celery worker process fetches the merchants' catalog lexicons as it starts (config/celery.py).
ORDERING_WARM_LEXICON = env_bool("ORDERING_WARM_LEXICON", True)

# Rollout (ordering.rollout; docs/operations.md "Rollout"). The phase, percentages and kill switch are
# changed by operators in the admin (RolloutSettings, audited); these are the values before any change.
ORDERING_ROLLOUT_DEFAULT_PHASE = env_int("ORDERING_ROLLOUT_DEFAULT_PHASE", 3)
# The experiment name hashed with the customer id into a stable bucket (0-9999); renaming it reshuffles.
ORDERING_ROLLOUT_EXPERIMENT = env_str("ORDERING_ROLLOUT_EXPERIMENT", "assistant-vs-checkout")
# Each process re-reads the rollout settings at most this often; a change made in this process applies
# at once. So the kill switch takes effect everywhere within this many seconds.
ORDERING_ROLLOUT_CACHE_SECONDS = env_int("ORDERING_ROLLOUT_CACHE_SECONDS", 2)

# A chat session ends when its conversation has been quiet this long (the usual web-analytics 30 minutes);
# the beat's sweep then counts it: its duration and whether it placed an order (ordering/sessions.py).
ORDERING_SESSION_IDLE_SECONDS = env_int("ORDERING_SESSION_IDLE_SECONDS", 30 * 60)
# The A/B report (ordering.rollout.report) claims no difference while an arm has fewer exposed customers.
ORDERING_ROLLOUT_REPORT_MIN_CUSTOMERS = env_int("ORDERING_ROLLOUT_REPORT_MIN_CUSTOMERS", 30)
# Where a customer the assistant cannot serve (not in its arm, or the kill switch on) is sent instead: the
# shop's own checkout page (the demo storefront's by default).
ORDERING_ROLLOUT_CHECKOUT_URL = env_str("ORDERING_ROLLOUT_CHECKOUT_URL", "/shop/checkout/")
