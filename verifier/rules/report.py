"""Result objects of a rules evaluation; JSON with amounts as decimal strings, never floats."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from verifier.rules.eligibility import Ineligible

Status = Literal["pass", "fail", "not_evaluated"]

#: RULES.md "Not mechanically checkable": listed in every result as out of scope.
OUT_OF_SCOPE: tuple[str, ...] = (
    "segregation and trust arrangements",
    "custodian acceptability",
    "insured-depository status",
    "no-interest rules",
    "rehypothecation",
    "fee notices",
    "redemption practice",
    "auditor acceptability",
)


#: Holdings listed one by one per section of a report (ineligible holdings of a pack, risk
#: inputs, unconverted holdings); the rest are counted, never dropped from a computation. A
#: result's size, and the memory to build it, then stay bounded however many holdings a
#: bundle has (DESIGN §1, bounded work); the first ones in bundle order are listed, so a
#: recheck derives the same list.
MAX_LISTED = 1000
#: Holdings listed one by one per section in the compact result (``porv verify`` without
#: ``--detail``): a few ineligible holdings and unconverted ones show what decided; the rest
#: are counted, and the bundle re-derives every one of them (``--detail`` lists MAX_LISTED).
COMPACT_LISTED = 20


def dec(value: Decimal) -> str:
    """A Decimal as a plain decimal string (no exponent)."""
    return f"{value:f}"


@dataclass(frozen=True, slots=True)
class RuleResult:
    """The outcome of one rule of one pack.

    ``measured`` and ``limit`` are decimal strings for amounts (in the token currency unless
    the text says otherwise) or short texts (a currency, a day count); ``None`` when absent.
    ``confidence`` is P (primary text), S (secondary source) or X (our interpretation).
    """

    id: str
    pack: str
    title: str
    kind: str
    status: Status
    measured: str | None
    limit: str | None
    citation: str
    confidence: str
    message: str
    #: the FX rates a comparison used (:meth:`verifier.model.fx.FxRate.to_json`), if any
    fx: tuple[dict[str, object], ...] = ()

    def to_json(self) -> dict[str, object]:
        """JSON form (``fx`` only when a rate was used)."""
        out: dict[str, object] = {
            "id": self.id,
            "pack": self.pack,
            "title": self.title,
            "kind": self.kind,
            "status": self.status,
            "measured": self.measured,
            "limit": self.limit,
            "citation": self.citation,
            "confidence": self.confidence,
            "message": self.message,
        }
        if self.fx:
            out["fx"] = [dict(f) for f in self.fx]
        return out


#: What a pack's verdict is, by pack status: law in force gives a compliance verdict, a draft
#: a readiness verdict (never "compliant"), an informational view decides nothing.
ASSESSMENTS: dict[str, str] = {
    "in_force": "compliance",
    "draft": "readiness",
    "informational": "informational",
}


@dataclass(frozen=True, slots=True)
class PackReport:
    """One pack's verdict: pass iff no rule failed (``not_evaluated`` does not decide).

    ``status`` is the pack's (``in_force``, ``draft``, ``informational``): a draft's verdict
    reads "readiness", an informational pack never decides ``verified`` (:attr:`decides`).
    """

    pack: str
    title: str
    law: str
    sha256: str
    rules: tuple[RuleResult, ...]
    eligible_total: Decimal
    reserve_total: Decimal
    ineligible: tuple[Ineligible, ...]
    #: how many holdings are ineligible (``ineligible`` lists at most MAX_LISTED of them)
    ineligible_count: int = -1
    status: str = "in_force"
    effective_from: _dt.date | None = None
    effective_until: _dt.date | None = None
    regime: str = ""
    #: E before a ``disclosure_deduction`` (equal to ``eligible_total`` when none applies)
    eligible_gross: Decimal | None = None
    confidence: str = ""
    #: the pack's documented parameters and the values used (JSON objects)
    parameters: tuple[dict[str, object], ...] = ()

    def __post_init__(self) -> None:
        if self.ineligible_count < 0:
            object.__setattr__(self, "ineligible_count", len(self.ineligible))

    @property
    def passed(self) -> bool:
        """Whether every rule whose data is present passes."""
        return all(r.status != "fail" for r in self.rules)

    @property
    def verdict(self) -> Literal["pass", "fail"]:
        """``"pass"`` or ``"fail"``."""
        return "pass" if self.passed else "fail"

    @property
    def decides(self) -> bool:
        """Whether this pack's verdict counts toward ``verified`` (informational: never)."""
        return self.status != "informational"

    @property
    def assessment(self) -> str:
        """``compliance`` (law in force), ``readiness`` (draft) or ``informational``."""
        return ASSESSMENTS.get(self.status, "compliance")

    @property
    def verdict_text(self) -> str:
        """The verdict in words that say what kind of verdict it is.

        In force: "pass" / "fail"; draft: "readiness: pass (draft, not in force)";
        informational: "informational: fail (does not decide verified)".
        """
        if self.status == "draft":
            since = f" before {self.effective_from.isoformat()}" if self.effective_from else ""
            return f"readiness: {self.verdict} (draft rules, not law in force{since})"
        if self.status == "informational":
            return f"informational: {self.verdict} (does not decide verified)"
        return self.verdict

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        """The failed rules."""
        return tuple(r for r in self.rules if r.status == "fail")

    def to_json(self, listed: int = MAX_LISTED) -> dict[str, object]:
        """JSON form, listing the first ``listed`` ineligible holdings (all are counted)."""
        return {
            "pack": self.pack,
            "title": self.title,
            "law": self.law,
            "sha256": self.sha256,
            "verdict": self.verdict,
            "status": self.status,
            "confidence": self.confidence,
            "assessment": self.assessment,
            "decides": self.decides,
            "verdict_text": self.verdict_text,
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "effective_until": self.effective_until.isoformat() if self.effective_until else None,
            "eligible_total": dec(self.eligible_total),
            "eligible_gross": dec(
                self.eligible_total if self.eligible_gross is None else self.eligible_gross
            ),
            "reserve_total": dec(self.reserve_total),
            "parameters": list(self.parameters),
            "rules": [r.to_json() for r in self.rules],
            "ineligible": [i.to_json() for i in self.ineligible[:listed]],
            "ineligible_count": self.ineligible_count,
        }


@dataclass(frozen=True, slots=True)
class RulesReport:
    """The evaluation of a reserve against one or more packs."""

    currency: str
    supply: Decimal
    as_of: _dt.date
    min_coverage: Decimal
    packs: tuple[PackReport, ...]
    out_of_scope: tuple[str, ...] = OUT_OF_SCOPE

    issuer_type: str | None = None

    @property
    def passed(self) -> bool:
        """Whether every pack that decides passes (an informational pack never decides)."""
        return all(p.passed for p in self.packs if p.decides)

    @property
    def results(self) -> tuple[RuleResult, ...]:
        """Every rule result, pack by pack."""
        return tuple(r for p in self.packs for r in p.rules)

    @property
    def deciding_failures(self) -> tuple[RuleResult, ...]:
        """The failed rules of the packs that decide (what makes :attr:`passed` false)."""
        return tuple(r for p in self.packs if p.decides for r in p.failed)

    def pack(self, name: str) -> PackReport:
        """The report of pack ``name``.

        Raises:
            KeyError: if the pack was not evaluated.
        """
        for report in self.packs:
            if report.pack == name:
                return report
        raise KeyError(name)

    def to_json(self, listed: int = MAX_LISTED) -> dict[str, object]:
        """JSON form (``porv.rules/1``); each pack lists its first ``listed`` ineligible
        holdings."""
        return {
            "format": "porv.rules/1",
            "passed": self.passed,
            "currency": self.currency,
            "supply": dec(self.supply),
            "as_of": self.as_of.isoformat(),
            "min_coverage": dec(self.min_coverage),
            "issuer_type": self.issuer_type,
            "packs": [p.to_json(listed) for p in self.packs],
            "out_of_scope": list(self.out_of_scope),
        }
