"""Conversations, the agent, order flows: HTTP endpoints, thin: parse, call one service or selector, render.

Session auth with CSRF (the site default). Domain errors become HTTP answers in one place,
`config.api.api_exception_handler`, with the statuses registered below. Customer turns are
throttled per user (`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["conversation_turns"]`), and so is starting
conversations (`ORDERING_CONVERSATIONS_RATE`).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from audit.services import Origin
from config.api import throttled
from config.api_contract import ERRORS, ErrorOut, render
from config.throttling import UserRateThrottleWithLocalFallback
from ordering import selectors, services
from ordering.models import TurnStatus
from ordering.rollout.access import assistant_access_check, availability
from ordering.serializers import (
    ConfirmInput,
    ConversationCreatedOut,
    ConversationOut,
    DeclinedOut,
    EventsOut,
    FlowOut,
    MessageInput,
    RatingInput,
    RatingOut,
    TurnOut,
)
from ordering.turn_wait import BUSY_RETRY_AFTER_SECONDS, turn_wait_ended

# The conversation's GET sends at most this many flows, the newest first.
FLOWS_MAX = 100
# The events poll sends the flows changed since a little before the client's newest message (a turn's length and
# then some): a flow changed during a turn changed before that turn's last message.
FLOWS_LOOKBACK = timedelta(minutes=2)


class TurnRateThrottle(UserRateThrottleWithLocalFallback):
    """Customer turns per user (posting messages and confirming), shared by all processes through the cache
    (counted per process while the cache is unreachable: config/throttling.py)."""

    scope = "conversation_turns"

    def get_rate(self) -> str | None:
        # Read at request time, so a changed setting (or a test's override) applies without a restart.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class ConversationStartRateThrottle(UserRateThrottleWithLocalFallback):
    """New conversations per user: each one opens an agent session, so a loop of them costs like turns do."""

    scope = "conversation_starts"

    def get_rate(self) -> str | None:
        # Read at request time, so a changed setting (or a test's override) applies without a restart.
        return settings.ORDERING_CONVERSATIONS_RATE


class OrderingAPIView(APIView):
    # Views a customer outside the assistant's arm may not use (403 assistant_not_available): starting and
    # opening a conversation, writing to it, confirming. Reading a turn, the events, a flow and rating stay
    # open, so an order already under way can still be followed when the phase changes.
    assistant_only = False
    assignment = None

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles
        if self.assistant_only:
            self.assignment = assistant_access_check(request.user)

    def origin(self, request: Request) -> Origin:
        return Origin.from_request(request, channel="api")

    def throttled(self, request: Request, wait: float | None) -> None:
        raise throttled(
            wait=wait,
            message="You're sending messages faster than I can answer; please wait {seconds} seconds and try again.",
        )


def _doc(operation_id: str, response, request=None, status_code: int = 200, **extra):
    return extend_schema(
        operation_id=operation_id,
        request=request,
        responses={status_code: response, **ERRORS, **extra.pop("more", {})},
        tags=["conversations"],
        **extra,
    )


class ConversationListView(OrderingAPIView):
    throttle_classes = [ConversationStartRateThrottle]
    assistant_only = True

    def throttled(self, request: Request, wait: float | None) -> None:
        raise throttled(
            wait=wait,
            message="You've started many conversations in a short time; please wait {seconds} seconds and try again.",
        )

    @_doc("conversations_create", ConversationCreatedOut, None, 201, more={429: ErrorOut})
    def post(self, request: Request) -> Response:
        conversation = services.conversation_open(customer_id=request.user.pk, assignment=self.assignment)
        body = {
            "id": conversation.pk,
            "trace_id": conversation.trace_id,
            "status": conversation.status,
            "messages": selectors.messages_for(conversation=conversation),
            "ordering": availability(),
        }
        return Response(render(ConversationCreatedOut, body), status=status.HTTP_201_CREATED)


class ConversationDetailView(OrderingAPIView):
    assistant_only = True

    @_doc("conversations_retrieve", ConversationOut)
    def get(self, request: Request, conversation_id: str) -> Response:
        conversation = selectors.conversation_get(customer_id=request.user.pk, conversation_id=conversation_id)
        flow = selectors.conversation_current_flow(conversation=conversation)
        body = {
            "id": conversation.pk,
            "status": conversation.status,
            "messages": selectors.messages_for(conversation=conversation),
            "pending_confirmation": selectors.pending_confirmation(conversation=conversation),
            "flow": flow,
            # Every flow the messages' previews belong to (not only the newest): after a reload, each earlier
            # preview shows how it ended (placed, cancelled, replaced), not "no longer current".
            "flows": list(selectors.flows_changed_since(conversation=conversation, since=None).reverse()[:FLOWS_MAX]),
            "ordering": availability(),
        }
        return Response(render(ConversationOut, body))


class ConversationMessagesView(OrderingAPIView):
    throttle_classes = [TurnRateThrottle]
    assistant_only = True

    @_doc(
        "conversations_messages_create",
        TurnOut,
        MessageInput,
        202,
        more={422: ErrorOut, 429: ErrorOut},
        description="Stores the message and its turn and answers 202 at once; a worker runs the turn under a "
        "deadline. Poll the turn's url until its status is done or failed (in synchronous mode it already is). "
        "422 idempotency_conflict: the Idempotency-Key was already used with another message.",
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="A retried post with the same key and the same body returns the same turn "
                "(Idempotent-Replayed: true) instead of a second turn; the same key with another body is a 422.",
            )
        ],
    )
    def post(self, request: Request, conversation_id: str) -> Response:
        serializer = MessageInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 255:
            raise ValidationError({"idempotency_key": ["An Idempotency-Key is at most 255 characters."]})
        turn, replayed = services.conversation_message_post(
            conversation_id=conversation_id,
            customer_id=request.user.pk,
            text=serializer.validated_data["text"],
            idempotency_key=key,
            command=serializer.validated_data.get("command"),
        )
        response = Response(render(TurnOut, turn), status=status.HTTP_202_ACCEPTED)
        response["Location"] = response.data["turn"]["url"]
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


def _turn_wait_seconds(request: Request) -> float:
    """`?wait=N`: how long the client lets the request wait for the turn to end (0 to
    ORDERING_TURN_WAIT_MAX_SECONDS; more is cut to that)."""
    raw = request.query_params.get("wait", "").strip()
    if not raw:
        return 0.0
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise ValidationError({"wait": ["Give how many seconds to wait for the turn to end (a number, 0 or more)."]})
    return min(seconds, float(settings.ORDERING_TURN_WAIT_MAX_SECONDS))


def _close_database_connection() -> None:
    if not connection.in_atomic_block:  # never in the middle of a transaction (a test's, or a caller's)
        connection.close()


class ConversationTurnView(OrderingAPIView):
    @_doc(
        "conversations_turns_retrieve",
        TurnOut,
        description="The turn as it stands. With wait=N the request waits up to N seconds (at most "
        "ORDERING_TURN_WAIT_MAX_SECONDS, 20 by default) for the turn to end and answers as soon as it has; the "
        "status may still be queued or running when the time is up, or at once when the server cannot wait.",
        parameters=[
            OpenApiParameter(
                "wait",
                OpenApiTypes.NUMBER,
                OpenApiParameter.QUERY,
                description="Seconds to wait for the turn to end before answering (long-poll); 0 or absent: at once.",
            )
        ],
    )
    def get(self, request: Request, conversation_id: str, turn_id: str) -> Response:
        wait = _turn_wait_seconds(request)
        turn = selectors.turn_get(customer_id=request.user.pk, conversation_id=conversation_id, turn_id=turn_id)
        # Only a turn this customer may see is waited for, and only while it can still change.
        if not wait or turn.status not in (TurnStatus.QUEUED, TurnStatus.RUNNING):
            return Response(render(TurnOut, turn))
        # A waiting request holds its thread but not a PostgreSQL connection: with many threads per process
        # waiting, persistent connections would otherwise grow with the waiters, not with the work.
        waited = []

        def give_back_connection() -> None:
            waited.append(True)
            _close_database_connection()

        outcome = turn_wait_ended(turn_id=turn.pk, seconds=wait, before_waiting=give_back_connection)
        if outcome == "busy":  # no wait slot free: the turn as it stands, and when to ask again
            return Response(render(TurnOut, turn), headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)})
        # Read again as at first: a conversation erased meanwhile is the same 404, not an error.
        turn = selectors.turn_get(customer_id=request.user.pk, conversation_id=conversation_id, turn_id=turn_id)
        body = render(TurnOut, turn)
        if waited:
            _close_database_connection()  # taken again for the read: give it back too
        return Response(body)


class ConversationConfirmView(OrderingAPIView):
    throttle_classes = [TurnRateThrottle]
    assistant_only = True

    @_doc(
        "conversations_confirm",
        FlowOut,
        ConfirmInput,
        202,
        more={200: DeclinedOut, 429: ErrorOut},
        description="202 with the flow when confirmed (placement runs in the background), 200 when declined, "
        "409 when the hash is not the current preview, 409 assistant_paused while the kill switch is on, 409 "
        "rollout_limit over the rollout phase's limit, 403 assistant_not_available outside the assistant's arm.",
    )
    def post(self, request: Request, conversation_id: str) -> Response:
        serializer = ConfirmInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        decision = serializer.validated_data["decision"]
        flow = services.conversation_decide(
            conversation_id=conversation_id,
            customer_id=request.user.pk,
            preview_hash=serializer.validated_data["preview_hash"],
            decision=decision,
            origin=self.origin(request),
        )
        if decision == "confirm":
            # The flow as the confirmation left it (its transaction's own values): no read back.
            return Response(render(FlowOut, flow), status=status.HTTP_202_ACCEPTED)
        flow.refresh_from_db()
        return Response(render(DeclinedOut, {"flow": flow, "decision": "declined"}), status=status.HTTP_200_OK)


class ConversationEventsView(OrderingAPIView):
    @_doc(
        "conversations_events",
        EventsOut,
        parameters=[
            OpenApiParameter(
                "after", OpenApiTypes.INT, OpenApiParameter.QUERY, description="The last message id the client has."
            )
        ],
    )
    def get(self, request: Request, conversation_id: str) -> Response:
        conversation = selectors.conversation_get(customer_id=request.user.pk, conversation_id=conversation_id)
        raw_after = request.query_params.get("after", "0") or "0"
        if not raw_after.isdigit():
            raise ValidationError({"after": ["Give the id of the last message you have (a whole number)."]})
        after = int(raw_after)
        messages = list(selectors.messages_for(conversation=conversation, after_id=after)[:200])
        since_message = conversation.messages.filter(pk=after).first() if after else None
        # A turn's messages come through its own url, so a flow that changed while the turn ran (a placed order
        # the shop canceled before the reply was written) changed before the newest message the client has: look
        # back a little before it. A flow sent twice costs nothing; one never sent leaves a preview saying
        # "Order placed" for a canceled order.
        since = since_message.created_at - FLOWS_LOOKBACK if since_message else None
        flows = selectors.flows_changed_since(conversation=conversation, since=since)
        body = {
            "status": conversation.status,
            "messages": messages,
            "flows": flows[:20],
            "pending_confirmation": selectors.pending_confirmation(conversation=conversation),
            "last_message_id": messages[-1].pk if messages else after,
        }
        return Response(render(EventsOut, body))


class ConversationRatingView(OrderingAPIView):
    @_doc("conversations_csat", RatingOut, RatingInput, 201)
    def post(self, request: Request, conversation_id: str) -> Response:
        serializer = RatingInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        rating = services.conversation_rate(
            conversation_id=conversation_id,
            customer_id=request.user.pk,
            score=serializer.validated_data["score"],
            comment=serializer.validated_data["comment"],
        )
        return Response(render(RatingOut, rating), status=status.HTTP_201_CREATED)


class FlowDetailView(OrderingAPIView):
    @_doc("flows_retrieve", FlowOut)
    def get(self, request: Request, flow_id: str) -> Response:
        return Response(render(FlowOut, selectors.flow_get(customer_id=request.user.pk, flow_id=flow_id)))
