"""Reports of the GitHub workflow itself (not of a plan): what the apply after a merge did.

A plan report says what would change; these say what the workflow did with the
reviewed plan, why it refused, and what a person does next.
"""

from __future__ import annotations
