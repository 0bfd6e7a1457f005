"""The conversation and flow JSON API, mounted under /api/v1/."""

from django.urls import path

from ordering import api, views

urlpatterns = [
    path("conversations/", api.ConversationListView.as_view(), name="api-conversations"),
    path("conversations/<str:conversation_id>/", api.ConversationDetailView.as_view(), name="api-conversation"),
    path(
        "conversations/<str:conversation_id>/messages/",
        api.ConversationMessagesView.as_view(),
        name="api-conversation-messages",
    ),
    path(
        "conversations/<str:conversation_id>/turns/<str:turn_id>/",
        api.ConversationTurnView.as_view(),
        name="api-conversation-turn",
    ),
    path(
        "conversations/<str:conversation_id>/confirm/",
        api.ConversationConfirmView.as_view(),
        name="api-conversation-confirm",
    ),
    path(
        "conversations/<str:conversation_id>/events/",
        api.ConversationEventsView.as_view(),
        name="api-conversation-events",
    ),
    path(
        "conversations/<str:conversation_id>/csat/", api.ConversationRatingView.as_view(), name="api-conversation-csat"
    ),
    path("flows/<str:flow_id>/", api.FlowDetailView.as_view(), name="api-flow"),
    # 3-D Secure: the chat's link to the bank's challenge, and where the bank sends the customer back.
    path(
        "flows/<str:flow_id>/payment-verification/",
        views.payment_verification_start,
        name="flow-payment-verification",
    ),
    path(
        "flows/<str:flow_id>/payment-verification/done/",
        views.payment_verification_done,
        name="flow-payment-verification-done",
    ),
]
