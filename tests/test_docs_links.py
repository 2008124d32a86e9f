"""The README and docs/ are the product's manual: a broken link or a stale setting misleads a newcomer.

Every relative link in README.md and docs/*.md must name a file that exists and, with a ``#fragment``,
a heading of that file (GitHub's anchor rules). The configuration table in docs/operations.md must list
every ``Settings`` field with the default the code has, so a changed default cannot leave the docs behind.
Run ``python -m tests.test_docs_links`` to print the table rows after changing Settings.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from pydantic import SecretStr

from assistant.config import PROJECT_ROOT, Settings

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(
    r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^)\s]+)\)|<img[^>]*src=\"([^\"]+)\""
)
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped (word characters, - and space kept)."""
    text = re.sub(r"`", "", heading.strip().lower())
    text = "".join(c for c in text if c in "-_ " or unicodedata.category(c)[0] in "LNM")
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every anchor of a page, with GitHub's -1, -2 suffixes for repeated headings."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    for line in FENCE.sub("", page.read_text(encoding="utf-8")).splitlines():
        if m := re.match(r"^#{1,6}\s+(.*)$", line):
            base = anchor(m.group(1))
            n = seen.get(base, 0)
            out.add(base if n == 0 else f"{base}-{n}")
            seen[base] = n + 1
    return out


def links(page: Path) -> list[str]:
    """Relative link targets of a page outside code blocks (http(s) and mailto links are not checked)."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    found = [next(g for g in m.groups() if g) for m in LINK.finditer(text)]
    return [t for t in found if not re.match(r"^[a-z]+:", t)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in links(page):
        path, _, fragment = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no file {file}")
        elif fragment and file.suffix == ".md" and fragment not in anchors(file):
            broken.append(f"{target}: no heading #{fragment} in {file.name}")
    assert not broken, f"{page.name}: " + "; ".join(broken)


def test_the_readme_fits_on_a_screen_and_maps_the_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    mapped = {Path(t.partition("#")[0]).name for t in links(ROOT / "README.md")}
    missing = [p.name for p in PAGES[1:] if p.name not in mapped]
    assert not missing, f"docs pages the README does not link: {missing}"


def default_text(name: str) -> str:
    """A Settings default as the docs write it (paths relative to the project, secrets and None as words)."""
    field = Settings.model_fields[name]
    value = field.default_factory() if field.default_factory is not None else field.default
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None:
        return "unset"
    if isinstance(value, Path):
        if value.is_relative_to(PROJECT_ROOT):
            return f"`{value.relative_to(PROJECT_ROOT)}/`"
        return f"`{str(value).replace(str(Path.home()), '~')}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return f"`{','.join(value)}`" if value else "empty"
    if isinstance(value, dict):
        return "`{}`" if not value else f"`{value}`"
    if value == "":
        return "empty"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"


def settings_rows() -> dict[str, str]:
    """The configuration table's first two cells per field: the variable and its default."""
    return {f"ASSISTANT_{name.upper()}": default_text(name) for name in Settings.model_fields}


def test_the_configuration_table_lists_every_setting_with_its_default() -> None:
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    table = {
        m.group(1): m.group(2).strip()
        for m in re.finditer(r"^\| `(ASSISTANT_[A-Z0-9_]+)` \|([^|]*)\|", text, re.M)
    }
    wrong = {
        var: (table.get(var), default)
        for var, default in settings_rows().items()
        if table.get(var) != default
    }
    assert not wrong, f"docs/operations.md (documented, code): {wrong}"
    assert set(table) <= set(settings_rows()), (
        f"documented but not a setting: {set(table) - set(settings_rows())}"
    )


if __name__ == "__main__":
    for var, default in settings_rows().items():
        field = Settings.model_fields[var.removeprefix("ASSISTANT_").lower()]
        print(f"| `{var}` | {default} | {field.description or ''} |")
