"""Totals stored before the fix repeated the line items' discounts as an order-level `discount` entry; every
sandbox discount is allocated to lines (rfc.discount_extension §8.1: `items_discount` only), so stored session
quotes and orders lose that entry and answer as new ones do."""

from django.db import migrations


def _without_discount(totals):
    return [entry for entry in totals or [] if entry.get("type") != "discount"]


def forwards(apps, schema_editor):
    CheckoutSession = apps.get_model("sandbox_merchant", "CheckoutSession")
    Order = apps.get_model("sandbox_merchant", "Order")
    for session in CheckoutSession.objects.filter(quote__has_key="totals").iterator():
        totals = session.quote.get("totals") or []
        if any(entry.get("type") == "discount" for entry in totals):
            session.quote = {**session.quote, "totals": _without_discount(totals)}
            session.save(update_fields=["quote"])
    for order in Order.objects.iterator():
        if any(entry.get("type") == "discount" for entry in order.totals or []):
            order.totals = _without_discount(order.totals)
            order.save(update_fields=["totals"])


class Migration(migrations.Migration):
    dependencies = [
        ("sandbox_merchant", "0007_checkout_authentication_challenge"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
