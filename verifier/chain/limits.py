"""Default bounds of a run that the command line shows before any network code is imported."""

from __future__ import annotations

#: Default wall-clock budget of one verify or recheck run (``--deadline``), in seconds: generous
#: for a dozen chains read over slow public endpoints with retries, yet a hostile endpoint
#: (stalling, dripping, answering 5xx forever) cannot hold a CI job or a user for long.
DEFAULT_DEADLINE_S = 120.0
