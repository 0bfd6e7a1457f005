"""The account holder's settings page, customer login, and the consent JSON API (mounted at the site root)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from consent import api, views

urlpatterns = [
    # Customer sign-in (staff sign in at /admin/login/ with OTP).
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="registration/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The settings page: one GET, one small POST per change.
    path("settings/", views.settings_page, name="consent-settings"),
    path("settings/grants/", views.grant_create, name="consent-grant-create"),
    path("settings/grants/<int:grant_id>/revoke/", views.grant_revoke, name="consent-grant-revoke"),
    path("settings/caps/", views.caps_update, name="consent-caps-update"),
    path("settings/auto-checkout/", views.auto_checkout_update, name="consent-auto-checkout-update"),
    path("settings/payment-methods/", views.payment_method_create, name="consent-payment-method-create"),
    path(
        "settings/payment-methods/<int:payment_method_id>/default/",
        views.payment_method_default,
        name="consent-payment-method-default",
    ),
    path(
        "settings/payment-methods/<int:payment_method_id>/remove/",
        views.payment_method_remove,
        name="consent-payment-method-remove",
    ),
    path("settings/addresses/", views.address_create, name="consent-address-create"),
    path("settings/addresses/<int:address_id>/default/", views.address_default, name="consent-address-default"),
    path("settings/addresses/<int:address_id>/remove/", views.address_remove, name="consent-address-remove"),
    path("settings/step-up/enrol/", views.stepup_enrol, name="consent-stepup-enrol"),
    path("settings/step-up/confirm/", views.stepup_confirm, name="consent-stepup-confirm"),
    path("settings/step-up/verify/", views.stepup_verify, name="consent-stepup-verify"),
    path("settings/activity/<int:event_id>/", views.activity_detail, name="consent-activity-detail"),
    # The same operations as JSON for the chat widget.
    path("api/v1/consent/grants/", api.GrantListView.as_view(), name="api-consent-grants"),
    path("api/v1/consent/grants/<int:grant_id>/", api.GrantDetailView.as_view(), name="api-consent-grant"),
    path(
        "api/v1/consent/grants/<int:grant_id>/revoke/", api.GrantRevokeView.as_view(), name="api-consent-grant-revoke"
    ),
    path("api/v1/consent/caps/", api.CapsView.as_view(), name="api-consent-caps"),
    path("api/v1/consent/payment-methods/", api.PaymentMethodListView.as_view(), name="api-consent-payment-methods"),
    path(
        "api/v1/consent/payment-methods/<int:payment_method_id>/",
        api.PaymentMethodDetailView.as_view(),
        name="api-consent-payment-method",
    ),
    path(
        "api/v1/consent/payment-methods/<int:payment_method_id>/default/",
        api.PaymentMethodDefaultView.as_view(),
        name="api-consent-payment-method-default",
    ),
    path("api/v1/consent/addresses/", api.AddressListView.as_view(), name="api-consent-addresses"),
    path("api/v1/consent/addresses/<int:address_id>/", api.AddressDetailView.as_view(), name="api-consent-address"),
    path(
        "api/v1/consent/addresses/<int:address_id>/default/",
        api.AddressDefaultView.as_view(),
        name="api-consent-address-default",
    ),
    path("api/v1/consent/step-up/", api.StepUpView.as_view(), name="api-consent-stepup"),
    path("api/v1/consent/step-up/enrol/", api.StepUpEnrolView.as_view(), name="api-consent-stepup-enrol"),
    path("api/v1/consent/step-up/confirm/", api.StepUpConfirmView.as_view(), name="api-consent-stepup-confirm"),
    path("api/v1/consent/step-up/verify/", api.StepUpVerifyView.as_view(), name="api-consent-stepup-verify"),
    path("api/v1/activity/", api.ActivityListView.as_view(), name="api-activity"),
    path("api/v1/activity/<int:event_id>/", api.ActivityDetailView.as_view(), name="api-activity-detail"),
]
