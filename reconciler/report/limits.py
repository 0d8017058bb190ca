"""Size limits of the places reports are posted to (a leaf: the CLI reads them at startup
without importing the Markdown renderer and jinja2)."""

COMMENT_LIMIT = 65_536
"""GitHub's limit on the body of an issue or pull request comment."""
STEP_SUMMARY_LIMIT = 1_048_576
"""GitHub's limit on a job summary (``$GITHUB_STEP_SUMMARY``) per step."""

__all__ = ["COMMENT_LIMIT", "STEP_SUMMARY_LIMIT"]
