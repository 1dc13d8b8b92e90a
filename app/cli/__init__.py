"""``flask --app app <command>``: every command line of the service, one module a topic.

orders (preview, book, reconcile), shops (add, list, set-credentials, pause, resume,
remove), keys (rotate), users (create, …),
report (the Controle). Each command is a thin shell: parse arguments, call one use case
(app/booking, app/report), print JSON or a short table, exit 0 on success, 1 on a failed
operation, 2 on invalid input (app/cli/common.py).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.cli.keys import keys_cli
    from app.cli.orders import book_command, preview_command, reconcile_command
    from app.cli.report import report_command
    from app.cli.shops import shops_cli
    from app.cli.users import users

    for command in (
        report_command,
        reconcile_command,
        preview_command,
        book_command,
        shops_cli,
        keys_cli,
        users,
    ):
        app.cli.add_command(command)
