"""The sandbox merchant's demo data, and the one idempotent writer that loads it.

Running it again converges on the same rows (keyed by their public ids), restores demo prices and
stock, and refreshes relative timestamps ("alice liked the blue running shoes six days ago").
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from sandbox_merchant.models import (
    CardBehaviour,
    Customer,
    CustomerAddress,
    Product,
    ProductImage,
    Promotion,
    PromotionKind,
    SavedItem,
    SavedItemKind,
    Variant,
    VaultCard,
)

SHOE_SIZES = ["40", "41", "42", "43", "44", "45"]
CLOTHING_SIZES = ["S", "M", "L", "XL"]
ONE_SIZE = [""]

# (slug, title, category, brand, price in cents, colours, sizes, stock per variant, description)
PRODUCTS: list[tuple[str, str, str, str, int, list[str], list[str], int, str]] = [
    ("blue_runner", "Blue Runner", "running-shoes", "Stride", 7200, ["blue"], SHOE_SIZES, 8,
     "Lightweight blue running shoes with a breathable mesh upper, for daily road runs."),
    ("trail_blazer", "Trail Blazer", "running-shoes", "Stride", 9500, ["green", "black"], SHOE_SIZES, 5,
     "Grippy trail running shoes with a rock plate."),
    ("tempo_racer", "Tempo Racer", "running-shoes", "Velo", 12900, ["red", "white"], SHOE_SIZES, 4,
     "Carbon-plated racing shoes for tempo runs and race day."),
    ("cloud_jogger", "Cloud Jogger", "running-shoes", "Nimbus", 8800, ["grey", "blue"], SHOE_SIZES, 6,
     "Cushioned running shoes for easy long runs."),
    ("court_classic", "Court Classic", "sneakers", "Heritage", 6500, ["white"], SHOE_SIZES, 10,
     "Leather court sneakers with a gum sole."),
    ("canvas_low", "Canvas Low", "sneakers", "Heritage", 4500, ["black", "navy"], SHOE_SIZES, 12,
     "Everyday canvas low-top sneakers."),
    ("street_high", "Street High", "sneakers", "Urbana", 8000, ["white", "red"], SHOE_SIZES, 7,
     "High-top sneakers with a padded collar."),
    ("hiking_boot", "Summit Hiking Boot", "boots", "Ridge", 15900, ["brown"], SHOE_SIZES, 4,
     "Waterproof leather hiking boots."),
    ("chelsea_boot", "Chelsea Boot", "boots", "Ridge", 13000, ["black", "tan"], SHOE_SIZES, 5,
     "Elastic-sided leather Chelsea boots."),
    ("tech_tee", "Tech Running Tee", "t-shirts", "Stride", 2500, ["blue", "black", "orange"], CLOTHING_SIZES, 20,
     "Quick-dry running t-shirt."),
    ("cotton_tee", "Organic Cotton Tee", "t-shirts", "Basics", 1800, ["white", "black", "grey"], CLOTHING_SIZES, 30,
     "Soft organic cotton t-shirt."),
    ("graphic_tee", "Mountain Graphic Tee", "t-shirts", "Ridge", 2200, ["green"], CLOTHING_SIZES, 15,
     "Cotton t-shirt with a mountain print."),
    ("zip_hoodie", "Zip Hoodie", "hoodies", "Basics", 4900, ["grey", "navy"], CLOTHING_SIZES, 12,
     "Fleece-lined zip hoodie."),
    ("pullover_hoodie", "Pullover Hoodie", "hoodies", "Urbana", 5500, ["black", "red"], CLOTHING_SIZES, 10,
     "Heavyweight pullover hoodie."),
    ("rain_jacket", "Packable Rain Jacket", "jackets", "Ridge", 8900, ["yellow", "blue"], CLOTHING_SIZES, 8,
     "Waterproof jacket that packs into its own pocket."),
    ("down_jacket", "Down Jacket", "jackets", "Ridge", 19900, ["black", "olive"], CLOTHING_SIZES, 5,
     "Warm 700-fill down jacket."),
    ("wind_shell", "Running Wind Shell", "jackets", "Stride", 6900, ["blue", "lime"], CLOTHING_SIZES, 9,
     "Featherweight windproof running shell."),
    ("run_shorts", "5-inch Running Shorts", "shorts", "Stride", 3200, ["black", "blue"], CLOTHING_SIZES, 18,
     "Running shorts with a liner and a zip pocket."),
    ("cargo_shorts", "Cargo Shorts", "shorts", "Basics", 3500, ["khaki"], CLOTHING_SIZES, 14,
     "Cotton cargo shorts."),
    ("run_tights", "Thermal Running Tights", "pants", "Stride", 5200, ["black"], CLOTHING_SIZES, 10,
     "Brushed thermal tights for winter running."),
    ("chinos", "Slim Chinos", "pants", "Basics", 5900, ["navy", "beige"], CLOTHING_SIZES, 12,
     "Stretch cotton chinos."),
    ("run_socks", "Running Socks 3-pack", "socks", "Stride", 1500, ["white", "black"], ["S", "M", "L"], 40,
     "Cushioned anti-blister running socks."),
    ("wool_socks", "Merino Hiking Socks", "socks", "Ridge", 2000, ["grey"], ["S", "M", "L"], 25,
     "Merino wool hiking socks."),
    ("day_pack", "20L Day Pack", "bags", "Ridge", 7500, ["blue", "black"], ONE_SIZE, 10,
     "A 20 litre backpack for day hikes."),
    ("run_vest", "Hydration Running Vest", "bags", "Stride", 9900, ["black"], ["S", "M", "L"], 6,
     "Running vest with two soft flasks."),
    ("gym_duffel", "Gym Duffel", "bags", "Urbana", 4200, ["black", "grey"], ONE_SIZE, 9,
     "Duffel bag with a shoe compartment."),
    ("steel_bottle", "Insulated Steel Bottle", "bottles", "Basics", 2900, ["blue", "white", "black"], ONE_SIZE, 25,
     "Keeps drinks cold for 24 hours."),
    ("soft_flask", "Soft Flask 500ml", "bottles", "Stride", 1600, ["clear"], ONE_SIZE, 30,
     "Collapsible soft flask for running."),
    ("earbuds", "Sport Earbuds", "audio", "Sonic", 9900, ["black", "blue"], ONE_SIZE, 12,
     "Sweat-proof wireless earbuds."),
    ("headphones", "Over-ear Headphones", "audio", "Sonic", 18900, ["black", "silver"], ONE_SIZE, 6,
     "Noise-cancelling over-ear headphones."),
    ("gps_watch", "GPS Running Watch", "watches", "Velo", 24900, ["black", "blue"], ONE_SIZE, 5,
     "GPS watch with heart rate and training plans."),
    ("fitness_band", "Fitness Band", "watches", "Velo", 6900, ["black", "pink"], ONE_SIZE, 15,
     "Step, sleep and heart-rate tracker."),
    ("yoga_mat", "Yoga Mat", "fitness", "Zen", 3900, ["purple", "blue"], ONE_SIZE, 15,
     "Non-slip 5 mm yoga mat."),
    ("foam_roller", "Foam Roller", "fitness", "Zen", 2500, ["black"], ONE_SIZE, 12,
     "Firm foam roller for recovery."),
    ("kettlebell", "Kettlebell 12kg", "fitness", "Iron", 4900, ["black"], ONE_SIZE, 8,
     "Cast-iron kettlebell."),
    ("run_cap", "Running Cap", "accessories", "Stride", 2200, ["blue", "white"], ONE_SIZE, 20,
     "Lightweight running cap."),
    ("beanie", "Wool Beanie", "accessories", "Ridge", 2400, ["grey", "red"], ONE_SIZE, 18,
     "Warm wool beanie."),
    ("sunglasses", "Sport Sunglasses", "accessories", "Velo", 7900, ["black"], ONE_SIZE, 10,
     "Polarised wraparound sport sunglasses."),
    ("headlamp", "Running Headlamp", "accessories", "Ridge", 3900, ["black"], ONE_SIZE, 11,
     "300-lumen rechargeable headlamp."),
    ("gloves", "Touchscreen Running Gloves", "accessories", "Stride", 2600, ["black"], ["S", "M", "L"], 14,
     "Thin gloves that work with a phone screen."),
]  # fmt: skip

CUSTOMERS = [
    {
        "id": "cus_alice",
        "email": "alice@example.com",
        "first_name": "Alice",
        "last_name": "Example",
        "phone_number": "+14155550100",
        "addresses": [
            ("home", True, "Alice Example", "1 Market Street", "Apt 5", "San Francisco", "CA", "US", "94105"),
            ("work", False, "Alice Example", "500 Howard Street", "", "San Francisco", "CA", "US", "94105"),
        ],
    },
    {
        "id": "cus_bob",
        "email": "bob@example.com",
        "first_name": "Bob",
        "last_name": "Example",
        "phone_number": "+12125550100",
        "addresses": [
            ("home", True, "Bob Example", "350 Fifth Avenue", "", "New York", "NY", "US", "10118"),
        ],
    },
]

CARDS = [
    ("pm_alice_visa", "cus_alice", "visa", "4242", CardBehaviour.APPROVE),
    ("pm_alice_decline", "cus_alice", "visa", "0002", CardBehaviour.DECLINE),
    ("pm_alice_3ds", "cus_alice", "mastercard", "3220", CardBehaviour.REQUIRES_3DS),
    ("pm_bob_visa", "cus_bob", "visa", "1881", CardBehaviour.APPROVE),
]

# (customer, kind, product slug, variant id or None, days ago)
SAVED_ITEMS = [
    ("cus_alice", SavedItemKind.LIKED, "blue_runner", "var_blue_runner_42", 6),
    ("cus_alice", SavedItemKind.VIEWED, "blue_runner", "var_blue_runner_42", 6),
    ("cus_alice", SavedItemKind.VIEWED, "trail_blazer", None, 3),
    ("cus_alice", SavedItemKind.LIKED, "steel_bottle", "var_steel_bottle_blue", 20),
    ("cus_alice", SavedItemKind.PURCHASED, "run_socks", "var_run_socks_white_m", 45),
    ("cus_bob", SavedItemKind.LIKED, "zip_hoodie", "var_zip_hoodie_grey_l", 2),
    ("cus_bob", SavedItemKind.VIEWED, "gps_watch", None, 1),
    ("cus_bob", SavedItemKind.PURCHASED, "court_classic", "var_court_classic_44", 30),
]


def _promotions(now) -> list[dict]:
    return [
        {
            "code": "SAVE10",
            "description": "$10 off orders of $50 or more",
            "kind": PromotionKind.AMOUNT,
            "amount_off": 1000,
            "minimum_spend_amount": 5000,
        },
        {
            "code": "ALICE10",
            "description": "Alice's personal 10% off",
            "kind": PromotionKind.PERCENT,
            "percent_off": 10,
            "customer_id": "cus_alice",
            "expires_at": now + timedelta(days=90),
        },
        {
            "code": "RUN15",
            "description": "15% off running shoes",
            "kind": PromotionKind.PERCENT,
            "percent_off": 15,
            "category": "running-shoes",
            "expires_at": now + timedelta(days=30),
        },
        {
            "code": "BIG20",
            "description": "20% off orders of $200 or more",
            "kind": PromotionKind.PERCENT,
            "percent_off": 20,
            "minimum_spend_amount": 20000,
        },
        {
            "code": "SUMMER5",
            "description": "$5 off (last summer's code)",
            "kind": PromotionKind.AMOUNT,
            "amount_off": 500,
            "expires_at": now - timedelta(days=60),
        },
    ]


def variant_id(slug: str, colour: str, size: str, *, single_colour: bool) -> str:
    parts = [slug] + ([] if single_colour else [colour]) + ([size.lower()] if size else [])
    return "var_" + "_".join(parts)


def _upsert(model, rows: list, *, unique_fields: list[str], update_fields: list[str]) -> None:
    """`update_or_create` for many rows in one statement: INSERT … ON CONFLICT (unique_fields) DO UPDATE."""
    model.objects.bulk_create(rows, update_conflicts=True, unique_fields=unique_fields, update_fields=update_fields)


@transaction.atomic
def demo_data_seed() -> dict[str, int]:
    """Load the demo data, or converge on it: rows are keyed by their public ids (or natural keys), and each
    table is one INSERT … ON CONFLICT DO UPDATE, as `update_or_create` per row would leave it: 8 statements and
    the counts instead of ~2,000 (the full sandbox reset and every test database's first seed run this)."""
    now = timezone.now()
    products, images, variants = [], [], []
    for slug, title, category, brand, price, colours, sizes, stock, description in PRODUCTS:
        products.append(
            Product(
                id=f"prod_{slug}",
                title=title,
                description=description,
                category=category,
                brand=brand,
                price_amount=price,
                currency="usd",
            )
        )
        # Served by this site (sandbox_merchant/storefront.py): no page loads an outside image.
        images.append(
            ProductImage(
                product_id=f"prod_{slug}",
                position=0,
                url=reverse("sandbox_merchant:product-image", args=[slug]),
                alt_text=title,
            )
        )
        for colour in colours:
            for size in sizes:
                identifier = variant_id(slug, colour, size, single_colour=len(colours) == 1)
                variants.append(
                    Variant(
                        id=identifier,
                        product_id=f"prod_{slug}",
                        sku=identifier.removeprefix("var_").upper().replace("_", "-"),
                        colour=colour,
                        size=size,
                        price_amount=price,
                        currency="usd",
                        stock=stock,
                    )
                )
    _upsert(
        Product,
        products,
        unique_fields=["id"],
        update_fields=["title", "description", "category", "brand", "price_amount", "currency"],
    )
    _upsert(ProductImage, images, unique_fields=["product", "position"], update_fields=["url", "alt_text"])
    _upsert(
        Variant,
        variants,
        unique_fields=["id"],
        update_fields=["product", "sku", "colour", "size", "price_amount", "currency", "stock"],
    )

    customer_fields = ("email", "first_name", "last_name", "phone_number")
    _upsert(
        Customer,
        [Customer(id=data["id"], **{key: data[key] for key in customer_fields}) for data in CUSTOMERS],
        unique_fields=["id"],
        update_fields=list(customer_fields),
    )
    address_fields = ["is_default", "name", "line_one", "line_two", "city", "state", "country", "postal_code"]
    _upsert(
        CustomerAddress,
        [
            CustomerAddress(customer_id=data["id"], label=label, **dict(zip(address_fields, values, strict=True)))
            for data in CUSTOMERS
            for label, *values in data["addresses"]
        ],
        unique_fields=["customer", "label"],
        update_fields=address_fields,
    )

    _upsert(
        VaultCard,
        [
            VaultCard(
                reference=reference,
                customer_id=customer_id,
                brand=brand,
                last4=last4,
                exp_month=12,
                exp_year=now.year + 3,
                behaviour=behaviour,
            )
            for reference, customer_id, brand, last4, behaviour in CARDS
        ],
        unique_fields=["reference"],
        update_fields=["customer", "brand", "last4", "exp_month", "exp_year", "behaviour"],
    )

    _upsert(
        SavedItem,
        [
            SavedItem(
                customer_id=customer_id,
                kind=kind,
                product_id=f"prod_{slug}",
                variant_id=variant,
                saved_at=now - timedelta(days=days_ago),
            )
            for customer_id, kind, slug, variant, days_ago in SAVED_ITEMS
        ],
        unique_fields=["customer", "kind", "product"],
        update_fields=["variant", "saved_at"],
    )

    promotion_defaults = {
        "percent_off": None,
        "amount_off": None,
        "customer_id": None,
        "minimum_spend_amount": 0,
        "category": "",
        "starts_at": None,
        "expires_at": None,
        "active": True,
        "currency": "usd",
    }
    _upsert(
        Promotion,
        [Promotion(**{**promotion_defaults, **promotion}) for promotion in _promotions(now)],
        unique_fields=["code"],
        update_fields=[
            "description",
            "kind",
            "percent_off",
            "amount_off",
            "customer",
            "minimum_spend_amount",
            "category",
            "starts_at",
            "expires_at",
            "active",
            "currency",
        ],
    )

    return {
        "products": Product.objects.count(),
        "variants": Variant.objects.count(),
        "customers": Customer.objects.count(),
        "addresses": CustomerAddress.objects.count(),
        "cards": VaultCard.objects.count(),
        "saved_items": SavedItem.objects.count(),
        "promotions": Promotion.objects.count(),
    }
