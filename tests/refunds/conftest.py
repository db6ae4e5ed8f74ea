"""A return policy that offers every resolution: store credit with a 10 % bonus, keep-the-item
for cheap items returned for the merchant's fault, and agents adjusting up to €20."""

from __future__ import annotations

from typing import Any

import pytest

RESOLUTIONS_POLICY = """
[store_credit]
enabled = true
bonus_percent = 10
convertible_to_refund = true

[keep_item]
enabled = true
max_unit_price = { EUR = 3000 }
reasons = ["damaged", "wrong_item"]
max_per_customer = 1
period_days = 90

[adjustments]
agent_limit = { EUR = 2000 }
"""


@pytest.fixture
def resolutions_config(app_config: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    path = tmp_path / "policy.toml"
    path.write_text(RESOLUTIONS_POLICY)
    app_config["RETURN_POLICY_FILE"] = str(path)
    return app_config
