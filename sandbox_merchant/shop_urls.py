"""What our site serves of the sandbox shop when its API runs in its own process: the product pictures.

The storefront page (sandbox_merchant/storefront.py) is the shop's own page that embeds our chat
widget, so it is served from the widget's origin; its pictures are too (the widget shows only
same-origin images). Same namespace as sandbox_merchant/urls.py, so `sandbox_merchant:product-image`
reverses to the same path either way.
"""

from django.urls import path

from sandbox_merchant import storefront

app_name = "sandbox_merchant"

urlpatterns = [path("images/<slug:slug>.svg", storefront.product_image, name="product-image")]
