"""One base for every app's domain errors (config.errors.DomainError): each carries its HTTP status, and the
API's exception handler answers every one of them in the one error shape with that status."""

from __future__ import annotations

import importlib

from config.errors import DomainError

MODULES = (
    "ordering.errors",
    "ordering.agent.errors",
    "ordering.rollout.services",
    "consent.exceptions",
    "escalations.services",
)


def _all_domain_errors() -> list[type[DomainError]]:
    for module in MODULES:  # every module that defines domain errors, so the walk below sees them all
        importlib.import_module(module)
    found, todo = [], [DomainError]
    while todo:
        for subclass in todo.pop().__subclasses__():
            found.append(subclass)
            todo.append(subclass)
    return sorted(set(found), key=lambda kind: f"{kind.__module__}.{kind.__qualname__}")


# What the API answered before the statuses moved onto the classes (the two tables in ordering.api and
# consent.api), and what the previously unmapped ones answer now instead of a 500.
EXPECTED = {
    "ConversationNotFound": 404,
    "TurnNotFound": 404,
    "FlowNotFound": 404,
    "StalePreview": 409,
    "PreviewExpired": 409,
    "FlowNotConfirmable": 409,
    "InvalidFlowTransition": 409,
    "AutoCheckoutNotAllowed": 409,
    "PreviewIncomplete": 409,
    "NothingToConfirm": 409,
    "TurnInProgress": 409,
    "IdempotencyConflict": 422,
    "AssistantNotAvailable": 403,
    "AssistantPaused": 409,
    "RolloutCeilingExceeded": 409,
    "ConsentDenied": 403,
    "ConsentMissing": 403,
    "ConsentRevoked": 403,
    "ConsentExpired": 403,
    "StepUpProofRequired": 403,
    "StepUpProofInvalid": 403,
    "MerchantVaultUnavailable": 503,
    "CapAboveCeiling": 400,
    "InvalidPaymentMethod": 400,
    "PaymentMethodNotAtMerchant": 400,
    "MerchantAccountMissing": 400,
    "InvalidAddress": 400,
    "InvalidGrant": 400,
    "SpendCurrencyMismatch": 400,
    "StepUpInvalidCode": 400,
    "SpendCapExceeded": 409,
    "SpendReservationConflict": 409,
    "SpendReservationSettled": 409,
    "SpendCommitExceedsReservation": 409,
    "GrantNotActive": 409,
    "StepUpNotEnrolled": 409,
    "SpendReservationNotFound": 404,
    "StepUpThrottled": 429,
    "PaymentChallengeRefused": 400,
    "PaymentChallengeUsed": 409,
    "PaymentChallengeLimit": 429,
    "RolloutChangeRefused": 400,
    "EscalationNotFound": 404,
    "EscalationActionRefused": 409,
    "InvalidEscalationTransition": 409,
}


def test_every_domain_error_of_every_app_derives_from_the_one_base_with_a_status():
    names = {kind.__name__: kind for kind in _all_domain_errors()}
    assert {"OrderingError", "ConsentError", "EscalationError"} <= names.keys()
    for name, status in EXPECTED.items():
        assert name in names, f"{name} no longer derives from DomainError"
        assert names[name].http_status == status, name
    for kind in names.values():
        assert 400 <= kind.http_status < 600 and kind.code and kind.code != DomainError.code, kind


def test_the_api_answers_each_domain_error_with_its_status_in_the_one_shape():
    from rest_framework.test import APIRequestFactory

    from config.api import api_exception_handler

    for kind in _all_domain_errors():
        _answers_in_the_one_shape(kind, api_exception_handler, APIRequestFactory())


def _answers_in_the_one_shape(kind, api_exception_handler, factory) -> None:
    error = kind.__new__(kind)
    DomainError.__init__(error, "Something a person can read.", flow_id="f-1")
    response = api_exception_handler(error, {"request": factory.get("/api/v1/anything/")})

    assert response.status_code == kind.http_status, kind
    assert response.data == {"error": kind.code, "message": "Something a person can read.", "flow_id": "f-1"}
