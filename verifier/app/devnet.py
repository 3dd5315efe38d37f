"""``porv devnet up``: load a scenario (or the built-in demo) and start its local chains."""

from __future__ import annotations

import time

from verifier.devnet.scenarios import DevnetInfo, Scenario
from verifier.errors import InputError, Location


def load_devnet_scenario(path: str | None) -> Scenario:
    """The porv.scenario/1 file at ``path``, or the built-in demo scenario."""
    from verifier.devnet.scenarios import demo_scenario, load_scenario

    return load_scenario(path) if path else demo_scenario()


def genesis_time_option(text: str | None, *, now: int | None = None) -> int | None:
    """``--genesis-time``: unix seconds, now or in the past (a chain whose clock runs ahead
    would date every block after the moment a verifier checks it).

    Raises:
        InputError: Not a time (the one time parser's rule), or in the future.
    """
    if text is None:
        return None
    from verifier.model.timeutil import MAX_FUTURE_SKEW_S, format_rfc3339, parse_time_option

    value = parse_time_option(text, option="--genesis-time")
    clock = int(time.time()) if now is None else now
    if value > clock + MAX_FUTURE_SKEW_S:
        raise InputError(
            f"--genesis-time {format_rfc3339(value)} is in the future "
            f"(now {format_rfc3339(clock)})",
            hint="give now or a time in the past",
            location=Location(field="--genesis-time"),
        )
    return min(value, clock)


def start_devnet(
    kind: str, plan: Scenario, *, genesis_time: int | None = None, port: int | None = None
) -> DevnetInfo:
    """Start the scenario's chains and deploy it; the caller stops them (``info.stop()``)."""
    from verifier.devnet.scenarios import run_scenario

    return run_scenario(kind, plan, genesis_time=genesis_time, port=port)


def check_policy_out_scenario(plan: Scenario, *, source: str = "--policy-out") -> None:
    """Refuse, before any chain starts, a scenario ``--policy-out`` cannot write a policy for.

    A ``porv.policy/1`` must pin at least one custodian with at least one key; a scenario's
    keys are its registry custodians' signers and Safes (``registry.custodians``, ``eip1271``).

    Raises:
        InputError: The scenario names no custodian, or one without signers.
    """
    if not plan.custodians:
        raise InputError(
            f"{source}: the scenario names no custodian, and a policy must pin at least one",
            hint='add "registry": {"custodians": [{"id": "...", "signers": ["0x... or '
            'account:N"]}]} to the scenario (the signers are the keys that sign attestations)',
            location=Location(field="registry.custodians"),
        )
    for i, custodian in enumerate(plan.custodians):
        if not custodian.signers and not custodian.eip1271:
            raise InputError(
                f"{source}: custodian {custodian.id!r} has no signers, and a policy must pin "
                "at least one key per custodian",
                hint="list the custodian's signing addresses in the scenario",
                location=Location(field=f"registry.custodians[{i}].signers"),
            )


def devnet_policy_toml(info: DevnetInfo) -> str:
    """A complete ``porv.policy/1`` for a running devnet, checked with porv's policy loader.

    It pins the scenario's token (issuer, symbol, currency, decimals), each chain's deployment
    with its excluded addresses, the scenario's registry custodians and signers (and the Safes
    a custodian names, under ``eip1271``), the first registry deployed (also as the
    ``[feed]``: the registry is an AggregatorV3Interface), each chain's endpoint, and
    ``"latest"`` finality for these local chains. ``jurisdictions``, ``max_age`` and
    ``min_coverage`` come from the scenario's ``policy`` object (default: none, ``"35d"``,
    ``"1.00"``).

    Raises:
        InputError: The scenario has no custodian with signers (:func:`check_policy_out_scenario`).
        PolicyError: The scenario's values do not make a valid policy (e.g. a currency that is
            not an ISO 4217 code, an unknown jurisdiction), naming the key.
    """
    from verifier.model.policy import Policy, toml_string

    plan = info.scenario
    check_policy_out_scenario(plan)

    def strings(values: tuple[str, ...] | list[str]) -> str:
        return "[" + ", ".join(toml_string(v) for v in values) + "]"

    chains = ", ".join(str(c.node.chain_id) for c in info.chains)
    lines = [
        f"# porv.policy/1 written by `porv devnet up --policy-out` for {info.kind} chain(s) "
        f"{chains}.",
        "# It pins what that devnet deployed; write it again whenever the devnet restarts.",
        'format = "porv.policy/1"',
        f"issuer = {toml_string(plan.issuer)}",
        f"token = {toml_string(plan.symbol)}",
        f"currency = {toml_string(plan.currency)}",
        f"decimals = {plan.decimals}",
        '# from the scenario\'s optional "policy" object',
        f"jurisdictions = {strings(plan.jurisdictions)}",
        f"max_age = {toml_string(plan.max_age)}",
        f"min_coverage = {toml_string(plan.min_coverage)}",
        "",
    ]
    for d in info.deployments():
        lines += [
            "[[deployments]]",
            f"chain_id = {d['chain_id']}",
            f"address = {toml_string(d['address'])}",
            f"excluded = {strings(d['excluded'])}",
            "",
        ]
    lines.append("# the scenario's registry custodians and the signers its registry trusts")
    for cid, signers, threshold in info.custodians():
        lines += [
            "[[custodians]]",
            f"id = {toml_string(cid)}",
            f"signers = {strings(signers)}",
            f"threshold = {threshold}",
        ]
        wallets = info.custodian_wallets(cid)  # the scenario's Safes it names (safe:N)
        if wallets:
            pins = [
                f"{{ chain_id = {w.chain_id}, address = {toml_string(w.address)} }}"
                for w in wallets
            ]
            lines.append(f"eip1271 = [{', '.join(pins)}]")
        lines.append("")
    registry = next((c for c in info.chains if c.registry is not None), None)
    if registry is not None:
        ref = [
            f"chain_id = {registry.node.chain_id}",
            f"address = {toml_string(registry.registry or '')}",
        ]
        lines += ["[registry]", *ref, ""]
        lines += [
            "# The registry is also a Chainlink-style reserve feed: `porv verify` reports its",
            "# latest round beside the attested reserves (reported only, never deciding the",
            "# status); until an attestation is published there it has no round, and the",
            "# result says so.",
            "[feed]",
            *ref,
            "",
        ]
    lines.append("[rpc]")
    lines += [f'"{c.node.chain_id}" = [{toml_string(c.node.url)}]' for c in info.chains]
    lines += [
        "",
        '# "latest": these are local development chains, which report no real finalized block',
        "# (anvil's trails its head by 64 blocks, the others' is the head), so a pin at as_of",
        "# is final once the block after it exists. Never use it for a public chain.",
        "[finality]",
    ]
    lines += [f'"{c.node.chain_id}" = "latest"' for c in info.chains]
    text = "\n".join(lines) + "\n"
    Policy.from_toml_text(text, source="the policy for --policy-out")
    return text
