"""The sandbox merchant's URLs, mounted under /sandbox-merchant/ (see docs/sandbox-merchant-wire.md)."""

from django.urls import include, path

from sandbox_merchant import api, issuer, storefront
from sandbox_merchant.models import FaultOperation as Op

app_name = "sandbox_merchant"

urlpatterns = [
    path("checkout_sessions", api.route(POST=(Op.CREATE, api.checkout_create)), name="checkout-sessions"),
    path(
        "checkout_sessions/<str:session_id>",
        api.route(GET=(Op.GET, api.checkout_get), POST=(Op.UPDATE, api.checkout_update)),
        name="checkout-session",
    ),
    path(
        "checkout_sessions/<str:session_id>/complete",
        api.route(POST=(Op.COMPLETE, api.checkout_complete)),
        name="checkout-session-complete",
    ),
    path(
        "checkout_sessions/<str:session_id>/cancel",
        api.route(POST=(Op.CANCEL, api.checkout_cancel)),
        name="checkout-session-cancel",
    ),
    path(
        "agentic_commerce/delegate_payment",
        api.route(POST=(Op.DELEGATE_PAYMENT, api.delegate_payment)),
        name="delegate-payment",
    ),
    path(
        "agentic_commerce/delegate_payment/<str:token_id>/revoke",
        api.route(POST=(Op.REVOKE, api.delegate_payment_revoke)),
        name="delegate-payment-revoke",
    ),
    # ACP delegate authentication (3-D Secure), served by the sandbox as its own authentication provider.
    path(
        "delegate_authentication",
        api.route(faultable=False, POST=("authenticate", api.authentication_create)),
        name="delegate-authentication",
    ),
    path(
        "delegate_authentication/<str:authentication_session_id>",
        api.route(faultable=False, GET=("authenticate", api.authentication_get)),
        name="delegate-authentication-session",
    ),
    path(
        "delegate_authentication/<str:authentication_session_id>/authenticate",
        api.route(faultable=False, POST=("authenticate", api.authentication_authenticate)),
        name="delegate-authentication-authenticate",
    ),
    # The simulated issuer's challenge page: the shopper's browser, not an API client, comes here.
    path("issuer/challenge/<str:acs_trans_id>", issuer.challenge_page, name="issuer-challenge"),
    path("images/<slug:slug>.svg", storefront.product_image, name="product-image"),
    path("products", api.route(GET=(Op.SEARCH, api.products_search)), name="products"),
    path("products/<str:product_id>", api.route(GET=(Op.SEARCH, api.product_get)), name="product"),
    path("customers/<str:customer_id>", api.route(GET=(Op.CUSTOMER, api.customer_get)), name="customer"),
    path(
        "customers/<str:customer_id>/saved_items",
        api.route(GET=(Op.CUSTOMER, api.saved_items)),
        name="customer-saved-items",
    ),
    # Extension: saved items with their products, one request for what saved_items + N product reads return.
    path(
        "customers/<str:customer_id>/saved_products",
        api.route(GET=(Op.CUSTOMER, api.saved_products)),
        name="customer-saved-products",
    ),
    path(
        "customers/<str:customer_id>/promotions",
        api.route(GET=(Op.CUSTOMER, api.customer_promotions)),
        name="customer-promotions",
    ),
    path("orders/<str:order_id>", api.route(GET=(Op.ORDER, api.order_get)), name="order"),
    path("orders/<str:order_id>/cancel", api.route(POST=(Op.ORDER, api.order_cancel)), name="order-cancel"),
    path("orders/<str:order_id>/refund", api.route(POST=(Op.ORDER, api.order_refund)), name="order-refund"),
    # The fault switchboard itself is never subject to faults.
    path(
        "sandbox/faults",
        api.route(
            faultable=False,
            GET=("faults", api.faults_list),
            POST=("faults", api.faults_create),
            DELETE=("faults", api.faults_clear),
        ),
        name="faults",
    ),
    # The sandbox's control API (reset, stock, orders): a sandbox extension, see sandbox_merchant/control.py.
    path("sandbox/", include("sandbox_merchant.control")),
]
