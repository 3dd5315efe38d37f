"""JSON Schemas (draft 2020-12) of porv's files: bundle, policy, result (DESIGN §4).

The loaders check more than a schema can say (checksums, signatures, tree hashes); these
schemas are the published shape, for other tools, and tests check that porv's own outputs
validate against them.
"""

from __future__ import annotations

from typing import Any

_DRAFT = "https://json-schema.org/draft/2020-12/schema"
_ID = "https://porv.invalid/schema/"

_ADDRESS = {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$", "description": "EIP-55 checksummed"}
_HEX32 = {"type": "string", "pattern": "^0x[0-9a-fA-F]{64}$"}
_UINT_STR = {"type": "string", "pattern": "^(0|[1-9][0-9]*)$"}
_UINT64 = {"type": "integer", "minimum": 0, "maximum": 2**64 - 1}
_RFC3339_UTC = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.0+)?(Z|\+00:00)$",
}
_CURRENCY = {"type": "string", "pattern": "^[A-Z]{3}$"}


def _closed(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def _tree_schema() -> dict[str, Any]:
    """A standard-v1 tree dump (its leaf encoding is porv's)."""
    from verifier.model.holdings import LEAF_ENCODING

    return _closed(
        {
            "format": {"const": "standard-v1"},
            "leafEncoding": {"const": list(LEAF_ENCODING)},
            "tree": {"type": "array", "items": _HEX32, "minItems": 1},
            "values": {
                "type": "array",
                "items": _closed(
                    {
                        "value": {
                            "type": "array",
                            "minItems": len(LEAF_ENCODING),
                            "maxItems": len(LEAF_ENCODING),
                        },
                        "treeIndex": {"type": "integer", "minimum": 0},
                    }
                ),
            },
        }
    )


_TOTAL = _closed(
    {
        "currency": _CURRENCY,
        "amount": _UINT_STR,
        "decimals": {"type": "integer", "minimum": 0, "maximum": 255},
    }
)

ATTESTATION_MESSAGE = _closed(
    {
        "issuer": {"type": "string"},
        "token": {"type": "string"},
        "custodian": {"type": "string"},
        "holdingsRoot": _HEX32,
        "leafCount": _UINT_STR,
        "totals": {"type": "array", "items": _TOTAL},
        "asOf": _UINT64,
        "validUntil": _UINT64,
        "sequence": _UINT64,
    }
)

_SIGNATURE = {
    "oneOf": [
        _closed(
            {
                "scheme": {"const": "secp256k1"},
                "signer": _ADDRESS,
                "signature": {"type": "string", "pattern": "^0x[0-9a-fA-F]{130}$"},
            }
        ),
        _closed(
            {
                "scheme": {"const": "bls"},
                "signers": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "oneOf": [
                            {"type": "string", "pattern": "^0x[0-9a-fA-F]{96}$"},
                            {"type": "integer", "minimum": 0},
                        ]
                    },
                },
                "signature": {"type": "string", "pattern": "^0x[0-9a-fA-F]{192}$"},
            }
        ),
    ]
}


def bundle_schema() -> dict[str, Any]:
    """JSON Schema of ``porv.bundle/1``."""
    return {
        "$schema": _DRAFT,
        "$id": _ID + "bundle-1.json",
        "title": "porv.bundle/1",
        **_closed(
            {
                "format": {"const": "porv.bundle/1"},
                "issuer": {"type": "string", "minLength": 1},
                "token": _closed(
                    {
                        "symbol": {"type": "string", "minLength": 1},
                        "currency": _CURRENCY,
                        "decimals": {"type": "integer", "minimum": 0, "maximum": 77},
                    }
                ),
                "as_of": _RFC3339_UTC,
                "deployments": {
                    "type": "array",
                    "items": _closed(
                        {
                            "chain_id": {"type": "integer", "minimum": 1},
                            "address": _ADDRESS,
                            "excluded": {"type": "array", "items": _ADDRESS},
                        }
                    ),
                },
                "custodians": {
                    "type": "array",
                    "minItems": 1,
                    "items": _closed(
                        {
                            "id": {"type": "string", "minLength": 1},
                            "tree": _tree_schema(),
                            "attestation": ATTESTATION_MESSAGE,
                            "signatures": {"type": "array", "minItems": 1, "items": _SIGNATURE},
                        }
                    ),
                },
                "auditor_report": _closed(
                    {
                        "signers": _SIGNATURE["oneOf"][1]["properties"]["signers"],
                        "signature": {"type": "string", "pattern": "^0x[0-9a-fA-F]{192}$"},
                    }
                ),
                "disclosures": {"type": "object"},
            },
            required=["format", "issuer", "token", "as_of", "deployments", "custodians"],
        ),
    }


def policy_schema() -> dict[str, Any]:
    """JSON Schema of ``porv.policy/1`` (the TOML document as parsed)."""
    from verifier.model.issuer_types import ISSUER_TYPES
    from verifier.model.policy import KNOWN_JURISDICTIONS, REQUIRED_TOP_KEYS

    bls_key = _closed(
        {
            "pubkey": {"type": "string", "pattern": "^0x[0-9a-fA-F]{96}$"},
            "pop": {"type": "string", "pattern": "^0x[0-9a-fA-F]{192}$"},
        }
    )
    wallet = _closed({"chain_id": {"type": "integer", "minimum": 1}, "address": _ADDRESS})
    return {
        "$schema": _DRAFT,
        "$id": _ID + "policy-1.json",
        "title": "porv.policy/1",
        **_closed(
            {
                "format": {"const": "porv.policy/1"},
                "issuer": {"type": "string", "minLength": 1},
                "token": {"type": "string", "minLength": 1},
                "currency": _CURRENCY,
                "decimals": {"type": "integer", "minimum": 0, "maximum": 77},
                "jurisdictions": {
                    "type": "array",
                    "uniqueItems": True,
                    "items": {"enum": sorted(KNOWN_JURISDICTIONS)},
                },
                "issuer_type": {"enum": sorted(ISSUER_TYPES)},
                "max_age": {"type": "string", "pattern": "^[1-9][0-9]*[smhd]$"},
                "min_coverage": {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"},
                "deployments": {
                    "type": "array",
                    "minItems": 1,
                    "items": _closed(
                        {
                            "chain_id": {"type": "integer", "minimum": 1},
                            "address": _ADDRESS,
                            "excluded": {"type": "array", "items": _ADDRESS},
                        },
                        required=["chain_id", "address"],
                    ),
                },
                "custodians": {
                    "type": "array",
                    "minItems": 1,
                    "items": _closed(
                        {
                            "id": {"type": "string", "minLength": 1},
                            "signers": {"type": "array", "items": _ADDRESS},
                            "bls": {"type": "array", "items": bls_key},
                            "eip1271": {"type": "array", "items": wallet},
                            "threshold": {"type": "integer", "minimum": 1},
                        },
                        required=["id", "threshold"],
                    ),
                },
                "auditors": _closed(
                    {
                        "bls": {"type": "array", "minItems": 1, "items": bls_key},
                        "threshold": {"type": "integer", "minimum": 1},
                    }
                ),
                "rpc": {
                    "type": "object",
                    "patternProperties": {
                        "^[1-9][0-9]*$": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"type": "string"},
                        }
                    },
                    "additionalProperties": False,
                },
                "pack_options": {"type": "object"},
                "finality": {
                    "type": "object",
                    "patternProperties": {
                        "^[1-9][0-9]*$": {
                            "oneOf": [
                                {"enum": ["finalized", "latest"]},
                                {"type": "integer", "minimum": 1, "maximum": 1_000_000},
                            ]
                        }
                    },
                    "additionalProperties": False,
                },
                "feed": wallet,
                "registry": wallet,
                "fx": {
                    "type": "object",
                    "patternProperties": {
                        "^[A-Z]{3}/[A-Z]{3}$": {
                            "oneOf": [
                                _closed(
                                    {"rate": {"type": "string"}, "as_of": {"type": "string"}},
                                    required=["rate", "as_of"],
                                ),
                                _closed({"feed": {"type": "string"}}, required=["feed"]),
                            ]
                        }
                    },
                    "additionalProperties": False,
                },
            },
            required=list(REQUIRED_TOP_KEYS),
        ),
    }


def result_schema() -> dict[str, Any]:
    """JSON Schema of ``porv.result/1`` (top-level shape; sections are documented objects)."""
    check = _closed(
        {
            "step": {"type": "string"},
            "id": {"type": "string"},
            "outcome": {"enum": ["pass", "fail", "error", "skipped"]},
            "detail": {"type": "string"},
            "kind": {"type": "string"},
        },
        required=["step", "id", "outcome", "detail"],
    )
    return {
        "$schema": _DRAFT,
        "$id": _ID + "result-1.json",
        "title": "porv.result/1",
        "type": "object",
        "required": [
            "format",
            "status",
            "verifier",
            "verified_at",
            "inputs",
            "supply",
            "reserves",
            "coverage",
            "attestations",
            "rules",
            "risk",
            "checks",
            "digest",
        ],
        "properties": {
            "format": {"const": "porv.result/1"},
            "status": {"enum": ["verified", "failed", "error"]},
            "verifier": _closed({"name": {"const": "porv"}, "version": {"type": "string"}}),
            "verified_at": _RFC3339_UTC,
            "as_of": _RFC3339_UTC,
            "issuer": {"type": "string"},
            "token": {"type": "object"},
            "inputs": {"type": "object"},
            "supply": {"type": ["object", "null"]},
            "reserves": {"type": "object"},
            "coverage": {"type": "object"},
            "attestations": {"type": "array", "items": {"type": "object"}},
            "rules": {
                "type": ["object", "null"],
                "description": "porv.rules/1. Each pack lists its first 20 ineligible holdings "
                "(1,000 with --detail) and counts them all in ineligible_count.",
            },
            "risk": {
                "type": ["object", "null"],
                "description": "porv.risk/1. The compact result (the default) has no per-holding "
                "inputs list: inputs_count and the maturity ladder (value per time-to-maturity "
                "bucket over every holding) stand for them; a --detail result lists them too.",
                "properties": {
                    "inputs": {"type": "array", "items": {"type": "object"}},
                    "inputs_count": {"type": "integer", "minimum": 0},
                    "ladder": {
                        "type": "array",
                        "items": _closed(
                            {"bucket": {"type": "string"}, "value": {"type": "string"}}
                        ),
                    },
                    "unconverted": {"type": "array", "items": {"type": "string"}},
                    "unconverted_count": {"type": "integer", "minimum": 0},
                },
            },
            "checks": {"type": "array", "items": check},
            "detail": {
                "type": "boolean",
                "description": "true: made by porv verify --detail (each holding's risk inputs, up "
                "to 1,000 ineligible or unconverted holdings listed per section); false: the "
                "compact result (at most 20 listed per section, the rest counted). Recheck "
                "re-derives the same form.",
            },
            "registry": {"type": "object"},
            "feed": {"type": "object"},
            "fx": _closed(
                {
                    "rates": {"type": "array", "items": {"type": "object"}},
                    "unusable": {"type": "object", "additionalProperties": {"type": "string"}},
                }
            ),
            "digest": _HEX32,
            "signature": _closed(
                {
                    "scheme": {"const": "secp256k1"},
                    "signer": _ADDRESS,
                    "signature": {"type": "string", "pattern": "^0x[0-9a-fA-F]{130}$"},
                }
            ),
        },
        "additionalProperties": False,
    }


SCHEMAS = {"bundle": bundle_schema, "policy": policy_schema, "result": result_schema}
