"""Pure data: frozen dataclasses and the strict parsers that build them (no files, no network).

Holdings, attestations, bundles, policies, disclosures, numbers, identities, times, strict JSON
text (:mod:`~verifier.model.jsontext`) and safe display. The files are opened by
:mod:`verifier.local.loaders`.
"""
