"""The documented status schema is the one the wall answers with."""

from __future__ import annotations

import json
from pathlib import Path

from videowall.wall.status import status_schema

DOC = Path(__file__).resolve().parents[2] / "docs" / "status.schema.json"


def test_docs_status_schema_is_current() -> None:
    assert json.loads(DOC.read_text(encoding="utf-8")) == status_schema(), (
        "docs/status.schema.json is out of date: write it anew with "
        "`python -c 'import json; from videowall.wall.status import status_schema; "
        "print(json.dumps(status_schema(), indent=2, sort_keys=True))' > docs/status.schema.json`")
