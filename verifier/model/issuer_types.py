"""The issuer types a policy and a rule pack may name (no imports: ``porv rules check --help``
lists them)."""

from __future__ import annotations

#: Issuer types a policy may name (``issuer_type``) and a rule pack may bind
#: (``issuer_types``): a pack binding other types is refused, not failed.
ISSUER_TYPES: frozenset[str] = frozenset(
    {
        "bank",  # a bank issuing deposit tokens
        "bank_subsidiary",  # a wholly-owned subsidiary of a bank (UAE Art 22(3))
        "trust_company",  # trust company / trust bank (Japan, 特定信託受益権)
        "funds_transfer",  # funds-transfer service provider (Japan, 資金移動業者)
        "e_money_institution",
        "non_bank",  # any other licensed or registered non-bank issuer
    }
)
