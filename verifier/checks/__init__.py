"""The decisions: :func:`~verifier.checks.bundle.verify_bundle` -> ``Outcome`` (DESIGN §8's
``verify/``; named ``checks`` because ``verifier.verify`` is the public function).

Every numbered step of DESIGN §1 is a check in the outcome; the verifier collects every failed
claim instead of stopping at the first. Pure: what the chains said (:mod:`.evidence`: supply,
registry records, EIP-1271 verdicts) and the rollback floor (:mod:`.floor`) come in as data.
Orchestration (files, chains, state, the clock) is :mod:`verifier.app.verify`.
"""
