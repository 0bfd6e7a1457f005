"""The floor: a bare DRF view doing one insert and one update, behind the same middleware and sign-in.

Its table is created by the bench in its own database (`floor_table_create`); the view exists only in
the bench's URLconf. What a turn costs above this is what our code adds to "a request that writes".
"""

from __future__ import annotations

from django.db import connection, transaction
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

TABLE = "bench_floor"


def floor_table_create() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, user_id bigint NOT NULL, "
            "text varchar(2000) NOT NULL, status varchar(16) NOT NULL)"
        )


class FloorView(APIView):
    def post(self, request: Request) -> Response:
        text = str(request.data.get("text", ""))[:2000]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (user_id, text, status) VALUES (%s, %s, 'received') RETURNING id",  # noqa: S608
                [request.user.pk, text],
            )
            row_id = cursor.fetchone()[0]
            cursor.execute(f"UPDATE {TABLE} SET status = 'answered' WHERE id = %s", [row_id])  # noqa: S608
        return Response({"id": row_id, "status": "answered"}, status=201)
