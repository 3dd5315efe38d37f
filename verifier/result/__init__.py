"""The result document and its renderings.

* :mod:`~verifier.result.seal`: ``porv.result/1``: canonical JSON, digest, operator signature,
  the seal check recheck uses.
* :mod:`~verifier.result.view`: the result for people as one format-neutral document.
* :mod:`~verifier.result.report`: text, markdown and HTML renderers of that document.
* :mod:`~verifier.result.charts`: the HTML report's inline SVG charts.
* :mod:`~verifier.result.schemas`: JSON Schemas of porv's documents (``porv schema``).
"""
