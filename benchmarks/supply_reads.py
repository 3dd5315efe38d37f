"""Benchmark: porv's batched supply read vs web3.py's default one-call-at-a-time reads.

Both read the same values at the same block of the same anvil chain: for each of TOKENS
TestStablecoin deployments, ``totalSupply()``, ``decimals()`` and ``balanceOf`` of EXCLUDED
addresses, plus the block header (number, hash, timestamp).

* porv: :func:`verifier.chain.supply.read_supply` with ``block=N``: chain id + genesis check,
  the pinned header, then one JSON-RPC batch with every value (3 HTTP requests in all).
* web3: ``contract.functions.X().call(block_identifier=N)`` per value and
  ``w3.eth.get_block(N)``: one HTTP request each, web3's default.

Each is run ROUNDS times and the median wall time is reported. The run is repeated with a
small forwarding proxy that adds LATENCY_MS to every HTTP request, which stands in for a
remote node (on 127.0.0.1 the difference is mostly per-request overhead).

Usage: ``.venv/bin/python benchmarks/supply_reads.py [--tokens 10] [--excluded 3]
[--rounds 7] [--latency-ms 20]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from verifier.chain.contracts import load_contract
from verifier.chain.supply import clear_header_cache, read_supply
from verifier.devnet import deploy
from verifier.devnet.nodes import start_node
from verifier.model.policy import PinnedDeployment


class _Delay(BaseHTTPRequestHandler):
    upstream = ""
    delay = 0.0
    count = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).count += 1
        time.sleep(self.delay)
        req = urllib.request.Request(self.upstream, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            out = resp.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def delayed(upstream: str, delay_s: float) -> Iterator[type[_Delay]]:
    handler = type("D", (_Delay,), {"upstream": upstream, "delay": delay_s, "count": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def setup(url: str, tokens: int, excluded: int) -> tuple[list[PinnedDeployment], int]:
    accts = deploy.accounts(url)
    holders = accts[1 : 1 + excluded]
    deps = []
    for i in range(tokens):
        tok = deploy.deploy(url, "TestStablecoin", f"Bench {i}", f"B{i}", 6)
        deploy.token_mint(url, tok, accts[0], 10**12 + i)
        for j, h in enumerate(holders):
            deploy.token_mint(url, tok, h, 1000 * (j + 1))
        deps.append(PinnedDeployment(31337, tok, tuple(holders)))
    block = deploy.mine(url, 1)
    return deps, block


def porv_read(url: str, deps: list[PinnedDeployment], block: int) -> list[int]:
    clear_header_cache()
    r = read_supply(deps, {31337: [url]}, block=block, token_decimals=6)
    return [d.circulating for d in r.deployments]


def web3_read(url: str, deps: list[PinnedDeployment], block: int) -> list[int]:
    from web3 import HTTPProvider, Web3

    w3 = Web3(HTTPProvider(url))
    abi = load_contract("TestStablecoin").abi
    header = w3.eth.get_block(block)
    assert header["number"] == block
    out = []
    for d in deps:
        c = w3.eth.contract(address=d.address, abi=abi)
        total = c.functions.totalSupply().call(block_identifier=block)
        c.functions.decimals().call(block_identifier=block)
        ex = sum(c.functions.balanceOf(x).call(block_identifier=block) for x in d.excluded)
        out.append(total - ex)
    return out


def timed(fn: Callable[[], list[int]], rounds: int) -> tuple[float, list[int]]:
    times = []
    result: list[int] = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=10)
    ap.add_argument("--excluded", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    args = ap.parse_args()
    node = start_node("anvil", 31337)
    try:
        deps, block = setup(node.url, args.tokens, args.excluded)
        values = args.tokens * (2 + args.excluded) + 1
        print(
            f"anvil, {args.tokens} deployments x (totalSupply, decimals, {args.excluded} "
            f"balanceOf) + header = {values} values at block {block}"
        )
        porv_read(node.url, deps, block)  # warm up imports and connections
        web3_read(node.url, deps, block)
        for latency in (0.0, args.latency_ms / 1000):
            with delayed(node.url, latency) as proxy:
                url = proxy.url  # type: ignore[attr-defined]
                proxy.count = 0
                t_porv, v_porv = timed(lambda u=url: porv_read(u, deps, block), args.rounds)
                n_porv = proxy.count // args.rounds
                proxy.count = 0
                t_web3, v_web3 = timed(lambda u=url: web3_read(u, deps, block), args.rounds)
                n_web3 = proxy.count // args.rounds
            assert v_porv == v_web3, "porv and web3 read different values"
            print(
                f"added latency {latency * 1000:4.0f} ms/request: "
                f"porv {t_porv * 1000:8.1f} ms ({n_porv} HTTP requests)  "
                f"web3 {t_web3 * 1000:8.1f} ms ({n_web3} HTTP requests)  "
                f"ratio web3/porv = {t_web3 / t_porv:5.1f}x"
            )
    finally:
        node.stop()


if __name__ == "__main__":
    main()
