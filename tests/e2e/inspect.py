"""Checks every screen and state gets in the browser tests: at desktop (1440 px) and phone size,
nothing wider than the screen, an axe-core scan with no violations, and a screenshot of each
under artifacts/screenshots/ (`<name>-desktop.png`, `<name>-phone.png`).

axe-core is vendored (tests/e2e/vendor/axe-core@<version>/, MPL-2.0, with its licence; see
scripts/vendor_web.py) and injected into the page under test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, ViewportSize, expect

from tests.e2e.conftest import Screenshots

AXE = next((Path(__file__).parent / "vendor").glob("axe-core@*/axe.min.js"))
WIDE: ViewportSize = {"width": 1440, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
SIZES: tuple[tuple[str, ViewportSize], ...] = (("desktop", WIDE), ("phone", PHONE))

# Every rule axe runs by default (WCAG 2.0/2.1/2.2 A and AA and best practices).
_RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
  }));
}"""


def settle(page: Page) -> None:
    """Wait until the screen has its data: no loading indicator, main not busy."""
    expect(page.locator("main .loading")).to_have_count(0)
    expect(page.locator("main h1").first).to_be_visible()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate(_RUN_AXE)
    return violations


def overflow(page: Page) -> int:
    """How many px the page is wider than the viewport (0 when it fits)."""
    width: int = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return max(width, 0)


def inspect(page: Page, screenshots: Screenshots, name: str, *, settled: bool = True) -> None:
    """At each size: fits the screen, no axe violations, screenshot. Leaves the page wide."""
    if settled:
        settle(page)
    for size_name, size in SIZES:
        page.set_viewport_size(size)
        assert overflow(page) == 0, (
            f"{name} at {size_name}: {overflow(page)} px wider than the screen"
        )
        violations = axe_violations(page)
        assert violations == [], f"{name} at {size_name}: axe violations {violations}"
        screenshots.take(page, f"{name}-{size_name}")
    page.set_viewport_size(WIDE)
