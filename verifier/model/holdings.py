"""Reserve holdings: the fixed leaf layout of DESIGN §2.

(Skeleton: the dataclass and constants are the shared interface; the CSV parser lives here too.)
"""

from __future__ import annotations

from dataclasses import dataclass

#: The fixed leaf encoding, in order (DESIGN §2). This is the ``leafEncoding`` of every dump.
LEAF_ENCODING: tuple[str, ...] = (
    "string",  # 0 holding_id
    "string",  # 1 asset_class
    "string",  # 2 currency
    "uint256",  # 3 amount
    "uint8",  # 4 decimals
    "uint64",  # 5 maturity
    "string",  # 6 counterparty
    "string",  # 7 country
    "string",  # 8 rating
    "string",  # 9 collateral
    "uint256",  # 10 collateral_value
    "bytes32",  # 11 salt
)

LEAF_FIELDS: tuple[str, ...] = (
    "holding_id",
    "asset_class",
    "currency",
    "amount",
    "decimals",
    "maturity",
    "counterparty",
    "country",
    "rating",
    "collateral",
    "collateral_value",
    "salt",
)

ASSET_CLASSES: frozenset[str] = frozenset(
    {
        "cash",
        "central_bank_reserves",
        "bank_deposit_demand",
        "bank_deposit_term",
        "sovereign_debt",
        "supranational_debt",
        "public_sector_debt",
        "reverse_repo",
        "mmf_government",
        "mmf_other",
        "commercial_paper",
        "corporate_bond",
        "precious_metal",
        "crypto_asset",
        "secured_loan",
        "other",
    }
)

ZERO_SALT = b"\x00" * 32


@dataclass(frozen=True, slots=True)
class Holding:
    """One reserve holding, exactly the 12 leaf fields of DESIGN §2.

    Amounts are integers in minor units (``amount`` × 10^``decimals``); ``maturity`` is unix
    seconds of 00:00 UTC on the maturity date, 0 for none; ``salt`` is 32 bytes.
    """

    holding_id: str
    asset_class: str
    currency: str
    amount: int
    decimals: int
    maturity: int
    counterparty: str
    country: str
    rating: str
    collateral: str
    collateral_value: int
    salt: bytes = ZERO_SALT
