"""IO on local files and the process: strict JSON readers, atomic writes, state, key files.

* :mod:`~verifier.local.loaders`: ``load_policy``, ``load_bundle``, ``load_attestation_file``,
  ``load_proof_file``, ``parse_holdings_csv``: open the file, hand it to the pure parser.
* :mod:`~verifier.local.jsonio`: regular files only, size caps, strict JSON files (the text
  itself is parsed by :mod:`verifier.model.jsontext`).
* :mod:`~verifier.local.jsonstream`: reading bundles and trees too large to hold twice, for the
  streaming reader.
* :mod:`~verifier.local.state`: the rollback state file (locked; temp file + fsync +
  ``os.replace``) and atomic writes of outputs.
* :mod:`~verifier.local.keys`: reading key files.
* :mod:`~verifier.local.interrupts`: SIGINT/SIGTERM handling and cleanups.

Never imports the network layer (:mod:`verifier.chain`) or the devnet tooling.
"""
