"""Valid inputs and shortcuts shared by the tests."""

from __future__ import annotations

import copy
from typing import Any

# A real, check-digit-valid unified social credit code (GB 32100-2015).
CREDIT_CODE = "91330900MA2A1B2C34"

NO_EXCLUSIONS = {"discipline": False, "petition": False, "reconsideration": False,
                 "litigation": False}

VALID_PAYLOAD: dict[str, Any] = {
    "category": "fines",
    "situations": ["fines_discretion"],
    "agency": "普陀区某某局执法大队",
    "district": "putuo",
    "occurred_on": "2025-05-01",
    "description": "首次轻微违法已当场改正，仍被按最高档罚款五千元。",
    "amount_yuan": 5000,
    "real_name": True,
    "confidential": True,
    "identity": {"name": "林晓梅", "phone": "13857001234", "email": "lin.xm@example.com",
                 "company": "舟山海韵民宿", "credit_code": CREDIT_CODE},
    "exclusions": NO_EXCLUSIONS,
    "pledge": True,
}


def payload(**changes: Any) -> dict[str, Any]:
    """A valid API payload, with ``changes`` applied (None removes a key)."""
    data = copy.deepcopy(VALID_PAYLOAD)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def anonymous_payload(**changes: Any) -> dict[str, Any]:
    return payload(real_name=False, identity=None, **changes)
