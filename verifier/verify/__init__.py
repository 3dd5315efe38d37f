"""The decisions: :func:`~verifier.verify.bundle.verify_bundle` -> ``Outcome``.

Every numbered step of DESIGN §1 is a check in the outcome; the verifier collects every failed
claim instead of stopping at the first. Orchestration (files, state, the clock) is
:mod:`verifier.app.verify`.
"""
