"""reconciler on GitHub: reports posted where people look, and the apply after a merge.

Reports: one sticky pull-request comment, one drift issue, the job summary. A
scheduled or pull-request run must not flood a repository: each report is
found again by a hidden marker line and edited in place (see :mod:`.body`).

The apply after a merge (:mod:`.merge_apply`) applies exactly the plan the
merged pull request reviewed (:mod:`.pulls`, :mod:`.artifacts`), and the
platform token only ever goes to a target the base branch names
(:mod:`.trusted`).

Everything needed comes from the standard GitHub Actions environment
(:mod:`.context`); all HTTP goes through :class:`.client.GitHubClient`.
"""

from __future__ import annotations
