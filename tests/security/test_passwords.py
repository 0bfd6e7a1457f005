"""Password rules for every password set through Django (staff accounts above all: `create_staff_user`, the staff
console's password forms): at least 12 characters (OWASP ASVS 2.1.1; Django's default is 8), not a common
password, not all digits, not like the user's own name or e-mail."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from escalations.staff import staff_user_create


@pytest.mark.django_db
def test_a_staff_password_of_eleven_characters_is_refused_and_twelve_are_accepted():
    with pytest.raises(ValidationError, match="at least 12 characters"):
        staff_user_create(username="nell", password="k9#vQ2!mZ4x")  # 11

    user, _ = staff_user_create(username="nell", password="k9#vQ2!mZ4xW")  # 12

    assert user.check_password("k9#vQ2!mZ4xW")
    assert get_user_model().objects.filter(username="nell").count() == 1


@pytest.mark.parametrize(
    "password",
    ["password1234", "123456789012345", "pat.nell@shop.example"],
    ids=["common", "all-digits", "like-the-e-mail"],
)
def test_long_passwords_that_are_common_all_digits_or_like_the_account_are_refused(password):
    user = get_user_model()(username="pat.nell", email="pat.nell@shop.example")

    with pytest.raises(ValidationError):
        validate_password(password, user)
