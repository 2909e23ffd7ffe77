"""The BFF's GraphQL schema as SDL, and the copy of it in docs/contracts.md.

    .venv/bin/python -m bff.schema_sdl            # print the SDL of the live schema
    .venv/bin/python -m bff.schema_sdl --write    # refresh the block in docs/contracts.md

tests/bff/test_schema_sdl.py fails when the documented schema and the code's differ.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from bff.schema import build_schema
from bff.settings import BffSettings

CONTRACTS = Path(__file__).resolve().parent.parent / "docs" / "contracts.md"
_BLOCK = re.compile(
    r"(<!-- graphql-schema:start[^\n]*-->\n```graphql\n)(.*?)(```\n<!-- graphql-schema:end -->)",
    re.DOTALL,
)


def live_sdl() -> str:
    # The settings only choose limits and extensions, never types: any valid token will do.
    settings = BffSettings(service_token="schema-export", app_env="development")
    return str(build_schema(settings)).strip() + "\n"


def documented_sdl(contracts: str) -> str:
    found = _BLOCK.search(contracts)
    if found is None:
        raise ValueError("docs/contracts.md has no graphql-schema:start/end block")
    return found.group(2)


def with_sdl(contracts: str, sdl: str) -> str:
    documented_sdl(contracts)  # the block must be there
    return _BLOCK.sub(lambda m: m.group(1) + sdl + m.group(3), contracts, count=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--write", action="store_true", help="refresh docs/contracts.md")
    args = parser.parse_args()
    if args.write:
        CONTRACTS.write_text(with_sdl(CONTRACTS.read_text(), live_sdl()))
    else:
        print(live_sdl(), end="")


if __name__ == "__main__":
    main()
