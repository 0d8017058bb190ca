"""``python -m reconciler.github``: the reconciler CLI, with the workflow's ``github`` commands.

``action.yml`` runs its steps this way (``python -m reconciler.github github
apply-merged …``), and the steps run the CLI's own commands through it too, so
a workflow needs only the Python the action installed reconciler into.
"""

from __future__ import annotations

from reconciler.cli import main
from reconciler.cli_github import github

if "github" not in main.commands:
    main.add_command(github)
raise SystemExit(main(prog_name="reconciler"))  # as the console script: exit codes kept
