"""Write openapi/openapi.json from the app (`make openapi`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from app.main import create_app

TARGET = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def main() -> int:
    schema = create_app().openapi()
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n")
    print(
        f"wrote {TARGET.relative_to(Path.cwd()) if TARGET.is_relative_to(Path.cwd()) else TARGET}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
