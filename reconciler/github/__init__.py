"""Reports on GitHub: one sticky pull-request comment, one drift issue, the job summary.

A scheduled or pull-request run must not flood a repository: each report is
found again by a hidden marker line and edited in place (see :mod:`.body`).
Everything needed comes from the standard GitHub Actions environment
(:mod:`.context`); all HTTP goes through :class:`.client.GitHubClient`.
"""

from __future__ import annotations
