"""docs/contracts.md carries the BFF's GraphQL schema as the code builds it, to the character."""

from __future__ import annotations

import pytest

from bff.schema_sdl import CONTRACTS, documented_sdl, live_sdl, with_sdl


def test_the_documented_schema_is_the_live_schema() -> None:
    assert documented_sdl(CONTRACTS.read_text()) == live_sdl(), (
        "docs/contracts.md is out of date: run `.venv/bin/python -m bff.schema_sdl --write`"
    )


def test_a_changed_schema_is_caught_and_rewritten() -> None:
    contracts = CONTRACTS.read_text()
    stale = with_sdl(contracts, live_sdl().replace("invoiceLink", "invoiceUrl"))
    assert documented_sdl(stale) != live_sdl()
    assert documented_sdl(with_sdl(stale, live_sdl())) == live_sdl()
    assert with_sdl(stale, live_sdl()) == contracts, "only the block changes"


def test_contracts_without_the_block_are_an_error() -> None:
    with pytest.raises(ValueError, match="graphql-schema"):
        documented_sdl("# no schema here\n")
