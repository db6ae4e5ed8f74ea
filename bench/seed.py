"""The benchmarks' database: created when missing, and its bulk data: history (default 1 M
returns) and fresh orders to return.

Rows are streamed with PostgreSQL COPY (psycopg), ids set explicitly, sequences moved past
them. History: 2 returns per order over two years in realistic statuses. Fresh orders: one
returnable line each, so every create-return request in a run has its own order.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import psycopg.conninfo
import psycopg.sql

STATUSES = (["refunded"] * 40 + ["closed"] * 8 + ["rejected"] * 8 + ["cancelled"] * 6
            + ["expired"] * 4 + ["requested"] * 12 + ["approved"] * 14 + ["received"] * 3
            + ["refund_pending"] * 3 + ["refund_failed"] * 2)
CHANNELS = ["web"] * 8 + ["api", "phone"]
REASONS = ["doesnt_fit", "changed_mind", "damaged", "defective", "not_as_described", "other"]
FRESH_PREFIX = "B"


def pg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _ts(value: datetime) -> str:
    return value.isoformat()


def _copy(cur: Any, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    n = 0
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


ORDER_COLS = ["id", "number", "email", "customer_name", "currency", "placed_at", "delivered_at",
              "channel", "shipping_total", "payment_provider", "payment_intent", "created_at",
              "updated_at"]
LINE_COLS = ["id", "order_id", "sku", "name", "quantity", "unit_price", "final_sale"]


def seed_history(url: str, returns: int, *, seed: int = 7) -> dict[str, int]:
    """`returns` returns on returns/2 orders (2 lines each, one item per return)."""
    rnd = random.Random(seed)
    orders = returns // 2
    now = datetime.now(UTC)
    start = now - timedelta(days=730)
    step = timedelta(days=730) / max(orders, 1)

    def order_rows() -> Iterator[tuple[Any, ...]]:
        for i in range(1, orders + 1):
            placed = start + step * i
            yield (i, f"H{i:07d}", f"cust{i}@example.com", f"Customer {i}", "EUR",
                   _ts(placed), _ts(placed + timedelta(days=2)), "web", 500, "stripe",
                   f"pi_hist_{i}", _ts(placed), _ts(placed))

    def line_rows() -> Iterator[tuple[Any, ...]]:
        for i in range(1, orders + 1):
            yield (2 * i - 1, i, "SHIRT", "Shirt", 1, 2500, False)
            yield (2 * i, i, "JEANS", "Jeans", 1, 8000, False)

    def return_rows() -> Iterator[tuple[Any, ...]]:
        for r in range(1, returns + 1):
            order_id = (r + 1) // 2
            created = start + step * order_id + timedelta(days=3, minutes=r % 2)
            status = rnd.choice(STATUSES)
            amount = 2500 if r % 2 else 8000
            refunded = amount if status in ("refunded", "refund_pending", "refund_failed") \
                else None
            yield (r, f"R-H{r:07d}", order_id, rnd.choice(CHANNELS), status, 2, _ts(created),
                   _ts(created), _ts(created), False, refunded, 0 if refunded else None,
                   0 if refunded else None, refunded)

    def item_rows() -> Iterator[tuple[Any, ...]]:
        for r in range(1, returns + 1):
            yield (r, r, r, 1, REASONS[r % len(REASONS)])

    counts = {}
    with psycopg.connect(pg_url(url)) as conn, conn.cursor() as cur:
        counts["orders"] = _copy(cur, "orders", ORDER_COLS, order_rows())
        counts["order_lines"] = _copy(cur, "order_lines", LINE_COLS, line_rows())
        counts["returns"] = _copy(cur, "returns", [
            "id", "rma", "order_id", "channel", "status", "version", "created_at",
            "updated_at", "status_changed_at", "needs_review", "refund_items_amount",
            "restocking_fee_amount", "refund_shipping_amount", "refund_amount"],
            return_rows())
        counts["return_items"] = _copy(cur, "return_items", [
            "id", "return_id", "order_line_id", "quantity", "reason"], item_rows())
        _move_sequences(cur)
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE")
    return counts


def seed_fresh_orders(url: str, count: int, start: int,
                      payment_intents: list[str] | None = None) -> int:
    """`count` delivered orders B<start…>, each with one returnable line SKU-1."""
    now = datetime.now(UTC)
    first_id = _next_id(url, "orders")
    first_line = _next_id(url, "order_lines")

    def order_rows() -> Iterator[tuple[Any, ...]]:
        for k in range(count):
            yield (first_id + k, f"{FRESH_PREFIX}{start + k:07d}", "bench@example.com",
                   "Bench Customer", "EUR", _ts(now - timedelta(days=5)),
                   _ts(now - timedelta(days=3)), "web", 500, "stripe",
                   payment_intents[k] if payment_intents else f"pi_fresh_{start + k}",
                   _ts(now), _ts(now))

    def line_rows() -> Iterator[tuple[Any, ...]]:
        for k in range(count):
            yield (first_line + k, first_id + k, "SKU-1", "Bench item", 1, 4200, False)

    with psycopg.connect(pg_url(url)) as conn, conn.cursor() as cur:
        _copy(cur, "orders", ORDER_COLS, order_rows())
        _copy(cur, "order_lines", LINE_COLS, line_rows())
        _move_sequences(cur)
        conn.commit()
        conn.autocommit = True
        cur.execute("ANALYZE orders; ANALYZE order_lines")
    return count


def _next_id(url: str, table: str) -> int:
    with psycopg.connect(pg_url(url)) as conn:
        row = conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()
        return int(row[0]) if row else 1


def _move_sequences(cur: Any) -> None:
    for table in ("orders", "order_lines", "returns", "return_items"):
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))")


def ensure_database(url: str) -> bool:
    """Create the database the URL names when the server does not have it yet (a fresh
    machine); True when it was created. Connects to the server's `postgres` database."""
    info = psycopg.conninfo.conninfo_to_dict(pg_url(url))
    name = info.get("dbname")
    if not name:
        raise ValueError(f"the database URL names no database: {url}")
    with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
        return True


def history_size(url: str) -> int:
    with psycopg.connect(pg_url(url)) as conn:
        # Seeded RMAs are R-H + 7 digits; the service's own are R- + 6 characters.
        row = conn.execute("SELECT count(*) FROM returns WHERE rma ~ '^R-H[0-9]{7}$'"
                           ).fetchone()
        return int(row[0]) if row else 0
