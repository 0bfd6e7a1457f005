"""The storefront's cart and checkout under /shop/ (mounted with the storefront, see config/urls.py)."""

from django.urls import path

from sandbox_merchant.shop import views

urlpatterns = [
    path("shop/cart/", views.cart_page, name="shop-cart"),
    path("shop/cart/add", views.cart_add_view, name="shop-cart-add"),
    path("shop/cart/update", views.cart_update_view, name="shop-cart-update"),
    path("shop/checkout/", views.checkout_page, name="shop-checkout"),
    path("shop/checkout/address", views.checkout_address_view, name="shop-checkout-address"),
    path("shop/checkout/place", views.checkout_place_view, name="shop-checkout-place"),
    path("shop/orders/<uuid:key>/", views.order_page, name="shop-order"),
]
