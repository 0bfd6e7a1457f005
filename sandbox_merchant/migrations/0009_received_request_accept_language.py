"""The request log keeps each request's `Accept-Language` (what the client asked the shop to write in)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sandbox_merchant", "0008_totals_discount_counted_once"),
    ]

    operations = [
        migrations.AddField(
            model_name="receivedrequest",
            name="accept_language",
            field=models.CharField(blank=True, db_default="", max_length=255),
        ),
    ]
