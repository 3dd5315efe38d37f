"""Support for testing projects with porv: the pytest plugin (:mod:`verifier.testing.plugin`).

The plugin is registered under the ``pytest11`` entry point ``porv``, so installing porv makes
its ``porv_*`` fixtures available in every pytest run (README, "Testing your project with porv
(pytest plugin)"). It sits at the top of the layers, beside the CLI: it drives the devnet
tooling and the orchestrators, and nothing in porv imports it.
"""
