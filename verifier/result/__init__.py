"""The result document and its renderings.

* :mod:`~verifier.result.seal`: ``porv.result/1``: canonical JSON, digest, operator signature,
  the seal check recheck uses.
* :mod:`~verifier.result.report`: text, markdown and HTML renderers of a result.
* :mod:`~verifier.result.schemas`: JSON Schemas of porv's documents (``porv schema``).
"""
