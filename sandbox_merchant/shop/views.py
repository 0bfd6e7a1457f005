"""The storefront's cart and checkout pages: thin, each POST calls one service and redirects (POST → GET)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from audit.services import Origin
from consent.formatting import format_money
from consent.selectors import address_get, addresses_for_customer, payment_method_get, payment_methods_for_customer
from sandbox_merchant.models import ShopCheckout, ShopCheckoutStatus, Variant
from sandbox_merchant.shop import services
from sandbox_merchant.shop.cart import CartError, cart_add, cart_clear, cart_lines, cart_set_quantity
from sandbox_merchant.shop.forms import AddToCartForm, CartQuantityForm, PlaceOrderForm, ShippingForm


def _origin(request: HttpRequest) -> Origin:
    return Origin.from_request(request, channel="web")


def _first_error(form) -> str:
    for errors in form.errors.values():
        return errors[0]
    return "Please check the form."


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") else default


def _cart_view_lines(lines: list[dict]) -> list[dict]:
    variants = {
        variant.id: variant
        for variant in Variant.objects.filter(id__in=[line["variant_id"] for line in lines]).select_related("product")
    }
    shown = []
    for line in lines:
        variant = variants.get(line["variant_id"])
        if variant is None:
            continue
        shown.append(
            {
                "variant_id": variant.id,
                "title": variant.product.title,
                "options": ", ".join(part for part in (variant.colour, variant.size) if part),
                "unit_price": format_money(variant.price_amount, variant.currency),
                "quantity": line["quantity"],
            }
        )
    return shown


@require_POST
@login_required
def cart_add_view(request: HttpRequest) -> HttpResponse:
    form = AddToCartForm(request.POST)
    back = _safe_next(request, "/")
    if not form.is_valid():
        messages.error(request, f"Could not add that to the cart: {_first_error(form)}")
        return HttpResponseRedirect(back)
    variant = Variant.objects.filter(id=form.cleaned_data["variant_id"]).select_related("product").first()
    if variant is None:
        messages.error(request, "That product is not in the shop's catalog.")
        return HttpResponseRedirect(back)
    try:
        cart_add(request.session, variant_id=variant.id, quantity=form.cleaned_data["quantity"])
    except CartError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(back)
    services.shop_session_start(user=request.user, session=request.session)
    options = ", ".join(part for part in (variant.colour, variant.size) if part)
    name = f"{variant.product.title} ({options})" if options else variant.product.title
    messages.success(request, f"Added {form.cleaned_data['quantity']} x {name} to your cart.")
    return HttpResponseRedirect(back)


@require_GET
@login_required
def cart_page(request: HttpRequest) -> HttpResponse:
    return render(request, "storefront/cart.html", {"lines": _cart_view_lines(cart_lines(request.session))})


@require_POST
@login_required
def cart_update_view(request: HttpRequest) -> HttpResponse:
    form = CartQuantityForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Could not change the cart: {_first_error(form)}")
    else:
        cart_set_quantity(request.session, **form.cleaned_data)
        messages.success(request, "Item removed." if form.cleaned_data["quantity"] == 0 else "Quantity updated.")
    return HttpResponseRedirect(reverse("shop-cart"))


def _fulfillment_choice(checkout: ShopCheckout, addresses: list) -> str:
    for address in addresses:
        if services.fulfillment_from_address(address) == checkout.fulfillment:
            return f"saved:{address.pk}"
    return "new" if checkout.fulfillment else ""


@require_GET
@login_required
def checkout_page(request: HttpRequest) -> HttpResponse:
    lines = cart_lines(request.session)
    if not lines:
        messages.info(request, "Your cart is empty: add something from the shop first.")
        return HttpResponseRedirect(reverse("shop-cart"))
    addresses = list(addresses_for_customer(user_id=request.user.pk))
    cards = list(payment_methods_for_customer(user_id=request.user.pk).filter(merchant_id=services.shop_merchant_id()))
    context: dict = {"addresses": addresses, "cards": cards, "session": None, "cart": _cart_view_lines(lines)}
    try:
        checkout = services.checkout_open(user=request.user, session=request.session)
        fulfillment = checkout.fulfillment
        if not fulfillment and addresses:
            fulfillment = services.fulfillment_from_address(addresses[0])  # the default address comes first
        session = services.checkout_sync(checkout=checkout, user=request.user, lines=lines, fulfillment=fulfillment)
    except services.ShopError as error:
        messages.error(request, error.message)
        return render(request, "storefront/checkout.html", context, status=error.status)
    total = session.total()
    checkout.refresh_from_db()
    choice = _fulfillment_choice(checkout, addresses)
    context.update(
        {
            "checkout": checkout,
            "session": session,
            "address_choice": choice,
            "address_options": [
                {"value": f"saved:{a.pk}", "label": f"{a.label}: {a.one_line}", "checked": choice == f"saved:{a.pk}"}
                for a in addresses
            ],
            "lines": [
                {
                    "title": line.title,
                    "options": ", ".join(part for part in (line.colour, line.size) if part),
                    "quantity": line.quantity,
                    "total": format_money(line.subtotal.amount, line.subtotal.currency),
                }
                for line in session.line_items
            ],
            "totals": [
                {
                    "label": entry.display_text,
                    "amount": format_money(entry.amount.amount, entry.amount.currency),
                    "type": entry.type,
                }
                for entry in session.totals
            ],
            # A refused payment was said once, when it happened; the session keeps it until the next attempt.
            "problems": [
                services.problem_text(session, message)
                for message in session.errors
                if message.code not in ("payment_declined", "requires_3ds")
            ],
            "expected_total": total.amount if total else "",
            "ready": session.status == "ready_for_payment",
            "default_card": cards[0].pk if cards else None,
        }
    )
    return render(request, "storefront/checkout.html", context)


@require_POST
@login_required
def checkout_address_view(request: HttpRequest) -> HttpResponse:
    form = ShippingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return HttpResponseRedirect(reverse("shop-checkout"))
    data = form.cleaned_data
    if data["address"] == "new":
        fulfillment = {
            "name": data["recipient"].strip(),
            "line_one": data["line1"].strip(),
            "line_two": (data["line2"] or "").strip(),
            "city": data["city"].strip(),
            "state": (data["region"] or "").strip(),
            "country": data["country"],
            "postal_code": data["postal_code"].strip(),
        }
    elif data["address"].startswith("saved:") and data["address"][6:].isdigit():
        address = address_get(user_id=request.user.pk, address_id=int(data["address"][6:]))
        fulfillment = services.fulfillment_from_address(address)
    else:
        messages.error(request, "Choose one of your addresses or enter a new one.")
        return HttpResponseRedirect(reverse("shop-checkout"))
    lines = cart_lines(request.session)
    if not lines:
        return HttpResponseRedirect(reverse("shop-cart"))
    try:
        checkout = services.checkout_open(user=request.user, session=request.session)
        services.checkout_sync(checkout=checkout, user=request.user, lines=lines, fulfillment=fulfillment)
    except services.ShopError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Shipping to {fulfillment['line_one']}, {fulfillment['city']}.")
    return HttpResponseRedirect(reverse("shop-checkout"))


@sensitive_post_parameters("card_number", "cvc")
@require_POST
@login_required
def checkout_place_view(request: HttpRequest) -> HttpResponse:
    form = PlaceOrderForm(request.POST)
    back = HttpResponseRedirect(reverse("shop-checkout"))
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return back
    checkout = services.checkout_for_session(user=request.user, session=request.session)
    if checkout is None:
        # A press that arrives once its order went through (a double click, a second tab) shows that order.
        placed = services.checkout_placed_for_session(user=request.user, session=request.session)
        if placed is not None:
            return HttpResponseRedirect(reverse("shop-order", args=[placed.key]))
        messages.error(request, "Your checkout has expired. Please review your order again.")
        return back
    if checkout.status == ShopCheckoutStatus.PLACED:
        return HttpResponseRedirect(reverse("shop-order", args=[checkout.key]))
    data = form.cleaned_data
    try:
        if data["card"] == "new":
            method = services.shop_card_add(
                user=request.user,
                number=data["card_number"],
                exp_month=data["exp_month"],
                exp_year=data["exp_year"],
                cvc=data["cvc"],
                origin=_origin(request),
            )
        elif data["card"].startswith("saved:") and data["card"][6:].isdigit():
            method = payment_method_get(user_id=request.user.pk, payment_method_id=int(data["card"][6:]))
        else:
            raise services.ShopError("Choose one of your cards or enter a card.")
        checkout = services.checkout_place(
            checkout=checkout, user=request.user, payment_method=method, expected_total=data.get("expected_total")
        )
    except services.CheckoutBusy:
        return HttpResponseRedirect(reverse("shop-order", args=[checkout.key]))
    except services.ShopError as error:
        messages.error(request, error.message)
        return back
    cart_clear(request.session)
    services.checkout_forget(session=request.session)
    return HttpResponseRedirect(reverse("shop-order", args=[checkout.key]))


@require_GET
@login_required
def order_page(request: HttpRequest, key) -> HttpResponse:
    checkout = ShopCheckout.objects.filter(key=key, user=request.user).first()
    if checkout is None:
        raise Http404("No such order.")  # someone else's checkout looks like no checkout at all
    if checkout.status == ShopCheckoutStatus.PLACED and request.session.get(services.CHECKOUT_KEY) == str(checkout.key):
        # The click that lost the race lands here too: the order is placed, so this cart is done.
        cart_clear(request.session)
        services.checkout_forget(session=request.session)
    total = format_money(checkout.total_amount, checkout.currency) if checkout.total_amount is not None else ""
    return render(request, "storefront/order.html", {"checkout": checkout, "total": total})
