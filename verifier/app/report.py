"""What the human reports of a result need beyond the result: the packs' eligibility citations.

A result records each pack it evaluated by name and sha256, and each ineligible holding with
its reasons. The paragraph of the law that makes a holding's class eligible (GENIUS
``§4(a)(1)(A)(iii)`` for Treasury bills) is in the pack file; :func:`eligibility_citations`
reads it from the shipped pack, only when its sha256 is the one the result records, so a
report never cites a different version of a pack than the one that decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from verifier.errors import PorvError
from verifier.rules.pack import load_pack


def eligibility_citations(result: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Per pack the result names, the eligibility citation of each asset class.

    Args:
        result: a ``porv.result/1`` document.

    Returns:
        ``{pack: {asset_class: citation, "": the pack's general eligibility citation}}`` for
        every shipped pack whose sha256 matches the result's; other packs are left out (the
        report then cites the pack's coverage rule from the result itself).
    """
    out: dict[str, dict[str, str]] = {}
    packs = (result.get("rules") or {}).get("packs") or []
    for entry in packs:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("pack"), str):
            continue
        try:
            pack = load_pack(entry["pack"])
        except PorvError:
            continue
        if pack.sha256 != entry.get("sha256"):
            continue
        by_class: dict[str, list[str]] = {}
        for row in pack.assets:
            cites = by_class.setdefault(row.asset_class, [])
            if row.citation not in cites:
                cites.append(row.citation)
        table = {cls: " / ".join(cites) for cls, cites in by_class.items()}
        table[""] = pack.eligibility_citation
        out[pack.name] = table
    return out
