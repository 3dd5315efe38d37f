"""The decisions: :func:`~verifier.checks.bundle.verify_bundle` -> ``Outcome`` (DESIGN §8's
``verify/``; named ``checks`` because ``verifier.verify`` is the public function).

Every numbered step of DESIGN §1 is a check in the outcome; the verifier collects every failed
claim instead of stopping at the first. Orchestration (files, state, the clock) is
:mod:`verifier.app.verify`.
"""
