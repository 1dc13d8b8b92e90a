"""The command line: preview, book, shops add/list. Commands run in-process through
Flask's CLI runner (stdout, stderr and the exit code apart); one preview runs as a real
``flask`` subprocess, where exit codes and stderr reach the shell."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from app import create_app
from app.config import Settings
from tests.helpers import EB_CODE1, EB_CODE2, EB_USER, MWW_TOKEN, World

SOAP_SECRETS = {"mww_token": MWW_TOKEN, "eb_code1": EB_CODE1, "eb_code2": EB_CODE2}


def secrets_stdin(**changes: str) -> str:
    """The SOAP shop's secrets as ``--secrets-stdin`` reads them (never as options)."""
    return json.dumps({**SOAP_SECRETS, **changes})


ROOT = Path(__file__).resolve().parent.parent
PAYLOADS = ROOT / "tests" / "payloads" / "mijnwebwinkel"


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def flask(*args: str) -> Ran:
    """``flask --app app ARGS`` in this process (development settings, as a shell has)."""
    app = create_app(Settings.from_env({"APP_ENV": "development"}))
    result = app.test_cli_runner().invoke(args=list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def flask_process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "APP_ENV": "development"},
    )


def write(tmp_path: Path, name: str, data: object) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_preview_prints_the_mutation_with_e_boekhouden_field_names(tmp_path: Path) -> None:
    order = json.loads((PAYLOADS / "order.spec-example.json").read_text())
    order.update(status=3, credited_order_number=None)
    result = flask("preview", write(tmp_path, "order.json", order))
    assert result.returncode == 0, result.stderr
    preview = json.loads(result.stdout)
    [mutation] = preview["mutations"]
    assert mutation["Soort"] == "FactuurVerstuurd"
    assert mutation["Factuurnummer"] == "27" and mutation["InExBTW"] == "IN"
    rows = mutation["MutatieRegels"]
    assert {r["BTWCode"] for r in rows} == {"HOOG_VERK_21", "LAAG_VERK_9"}
    assert sum(float(r["BedragInclBTW"]) for r in rows) == pytest.approx(47.45)
    assert all(
        r["BedragInclBTW"].count(".") == 1 and len(r["BedragInclBTW"].split(".")[1]) == 2
        for r in rows
    )
    assert preview["relation"]["Code"].startswith("MWW") and preview["relation"]["BP"] == "B"


def test_preview_with_a_mapping_file(tmp_path: Path) -> None:
    order = json.loads((PAYLOADS / "order.live-shape.sdk-test.json").read_text())
    order["credited_order_number"] = None
    mapping = {
        "rules": [
            {
                "treatment": "rate:21",
                "btw_code": "HOOG_VERK_21",
                "ledgers": {
                    "omzet": "8020",
                    "verzendkosten": "8000",
                    "betaalkosten": "8000",
                    "korting": "8020",
                },
            }
        ],
        "booking_mode": "cash",
        "payment_ledger": "1100",
    }
    result = flask(
        "preview", write(tmp_path, "o.json", order), "--mapping", write(tmp_path, "m.json", mapping)
    )
    assert result.returncode == 0, result.stderr
    [mutation] = json.loads(result.stdout)["mutations"]
    assert (mutation["Soort"], mutation["Rekening"]) == ("GeldOntvangen", "1100")
    assert mutation["MutatieRegels"][0]["TegenrekeningCode"] == "8020"


def test_preview_of_a_skipped_order(tmp_path: Path) -> None:
    order = json.loads((PAYLOADS / "order.spec-example.json").read_text())  # status 1
    result = flask("preview", write(tmp_path, "order.json", order))
    assert result.returncode == 0
    assert "status 1" in json.loads(result.stdout)["skipped"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"number": 1}), "uuid"),
        (
            json.dumps(
                {
                    "number": 1,
                    "uuid": "u",
                    "date": "2026-01-01",
                    "status": 3,
                    "debtor": {},
                    "price": {"total": "1e400"},
                }
            ),
            "price.total",
        ),
    ],
    ids=["bad-json", "missing-field", "bad-amount"],
)
def test_preview_invalid_input_exits_2_with_one_line(
    tmp_path: Path, content: str, fragment: str
) -> None:
    result = flask("preview", write(tmp_path, "order.json", content))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert fragment in result.stderr


@pytest.mark.integration  # the real command, as a shell or a script runs it
def test_preview_as_a_process_exits_with_its_code_and_one_line_on_stderr(tmp_path: Path) -> None:
    bad = flask_process("preview", write(tmp_path, "order.json", "{not json"))
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr
    assert "not valid JSON" in bad.stderr
    order = json.loads((PAYLOADS / "order.spec-example.json").read_text())
    order.update(status=3, credited_order_number=None)
    good = flask_process("preview", write(tmp_path, "order.json", order))
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["mutations"][0]["Factuurnummer"] == "27"


def test_preview_missing_file_and_bad_mapping(tmp_path: Path) -> None:
    missing = flask("preview", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    order = write(
        tmp_path, "o.json", json.loads((PAYLOADS / "order.spec-example.json").read_text())
    )
    bad = flask("preview", order, "--mapping", write(tmp_path, "m.json", {"booking_mode": "bogus"}))
    assert bad.returncode == 2 and "booking_mode" in bad.stderr


@pytest.fixture
def warm(world: World) -> World:
    """`shops add` tests both connections live with the world's 2-second timeouts; the
    simulator's first SOAP answer in a process can take longer on a loaded machine."""
    from app.booking.connections import verify_connections

    verify_connections(world.services, world.shop.credentials)
    return world


def test_shops_add_list_and_book(warm: World) -> None:
    world = warm
    app = create_app(services=world.services)
    runner = app.test_cli_runner()
    args = ["shops", "add", "--name", "Tweede winkel", "--eb-username", EB_USER]
    added = runner.invoke(args=[*args, "--secrets-stdin"], input=secrets_stdin())
    assert added.exit_code == 0, added.output
    shop = json.loads(added.stdout)
    assert shop["webhook_secret"].startswith("whsec_")
    assert shop["webhook_url"].startswith("http://connector.test/webhooks/mijnwebwinkel/")
    assert "Mijnwebwinkel import" in added.stderr  # the checklist: switch the old one off
    for secret in SOAP_SECRETS.values():  # read from stdin, never echoed
        assert secret not in added.output
    listed = runner.invoke(args=["shops", "list"])
    assert "Tweede winkel" in listed.output
    for secret in (MWW_TOKEN, EB_CODE1, EB_CODE2, shop["webhook_secret"]):
        assert secret not in listed.output
    world.add_order(8001)
    booked = runner.invoke(args=["book", "--shop", str(shop["id"]), "8001"])
    assert booked.exit_code == 0, booked.output
    assert json.loads(booked.output)["status"] == "booked"
    again = runner.invoke(args=["book", "--shop", str(shop["id"]), "8001"])
    assert json.loads(again.output)["status"] == "already_booked"


def test_shops_add_with_an_invoice_format(world: World) -> None:
    runner = create_app(services=world.services).test_cli_runner()
    base = ["shops", "add", "--name", "W2", "--eb-username", EB_USER, "--secrets-stdin"]
    added = runner.invoke(args=[*base, "--invoice-format", "W2-{number}"], input=secrets_stdin())
    assert added.exit_code == 0, added.output
    shop = json.loads(added.stdout)
    assert shop["invoice_format"] == "W2-{number}"
    world.add_order(8002)
    booked = runner.invoke(args=["book", "--shop", str(shop["id"]), "8002"])
    assert json.loads(booked.output)["status"] == "booked", booked.output
    assert [m["Factuurnummer"] for m in world.mutations()] == ["W2-8002"]
    for bad, message in (("W2-", "precies één keer {number}"), ("W" * 45 + "{number}", "50")):
        refused = runner.invoke(args=[*base, "--invoice-format", bad], input=secrets_stdin())
        assert refused.exit_code == 2 and message in refused.output


def test_shops_add_refuses_a_short_username(world: World) -> None:
    runner = create_app(services=world.services).test_cli_runner()
    result = runner.invoke(
        args=["shops", "add", "--name", "X", "--eb-username", "kort", "--secrets-stdin"],
        input=secrets_stdin(mww_token="t", eb_code1="a", eb_code2="b"),
    )
    assert result.exit_code == 2 and "6 characters" in result.output


def one_line_error(result: object) -> str:
    output = getattr(result, "stderr", None) or getattr(result, "output", "")
    assert "Traceback" not in output, output
    return str(output)


def test_preview_with_a_json_list_as_mapping_or_order(tmp_path: Path) -> None:
    order = write(
        tmp_path, "o.json", json.loads((PAYLOADS / "order.spec-example.json").read_text())
    )
    listed = flask("preview", order, "--mapping", write(tmp_path, "m.json", [1, 2]))
    assert listed.returncode == 2 and "JSON object" in one_line_error(listed)
    listed = flask("preview", write(tmp_path, "l.json", [{"number": 1}]))
    assert listed.returncode == 2 and "JSON object" in one_line_error(listed)


def test_book_and_reconcile_refuse_bad_input_in_one_line(world: World) -> None:
    runner = create_app(services=world.services).test_cli_runner()
    empty = runner.invoke(args=["book", "--shop", str(world.shop.id), "  "])
    assert empty.exit_code == 2 and "ORDER_NUMBER" in one_line_error(empty)
    for huge in (str(2**64 + 1), str(2**70), "0"):
        result = runner.invoke(args=["book", "--shop", huge, "1001"])
        assert result.exit_code == 2 and "--shop" in one_line_error(result)
        result = runner.invoke(args=["reconcile", "--shop", huge])
        assert result.exit_code == 2
    backwards = runner.invoke(
        args=[
            "reconcile",
            "--shop",
            str(world.shop.id),
            "--since",
            "2026-02-01",
            "--until",
            "2026-01-01",
        ]
    )
    assert backwards.exit_code == 2 and "--until must be later" in one_line_error(backwards)


def test_shops_add_refuses_empty_fields_and_checks_both_connections(warm: World) -> None:
    world = warm
    runner = create_app(services=world.services).test_cli_runner()
    before = len(world.services.store.shops.all())
    args = ["shops", "add", "--name", "Derde winkel", "--eb-username", EB_USER]

    def add(*extra: str, **changes: str) -> object:
        return runner.invoke(
            args=[*args, *extra, "--secrets-stdin"], input=secrets_stdin(**changes)
        )

    blank = runner.invoke(
        args=["shops", "add", "--name", "   ", "--secrets-stdin"], input=secrets_stdin()
    )
    assert blank.exit_code == 2 and "--name" in one_line_error(blank)
    for key, label in (
        ("mww_token", "Mijnwebwinkel"),
        ("eb_code1", "e-Boekhouden security code 1"),
        ("eb_code2", "e-Boekhouden security code 2"),
    ):
        result = add(**{key: "   "})
        assert result.exit_code == 2 and f"missing {label}" in one_line_error(result)
        assert "--secrets-stdin" in one_line_error(result)  # and how to give it
    wrong = add(mww_token="onbekende-token-123")
    assert wrong.exit_code == 1 and "mww:" in one_line_error(wrong)
    wrong = add(eb_code2="fout-fout")
    assert wrong.exit_code == 1 and "eb:" in one_line_error(wrong)
    assert len(world.services.store.shops.all()) == before  # nothing registered
    nobody = add("--owner", "niemand@example.nl")
    assert nobody.exit_code == 1
    world.services.store.users.create("eigenaar@example.nl", "scrypt:x")
    added = add("--owner", "eigenaar@example.nl")
    assert added.exit_code == 0, added.output
    shop_id = json.loads(added.stdout)["id"]
    owner = world.services.store.users.get_by_email("eigenaar@example.nl")
    assert owner and world.services.store.users.shop_ids(owner.id) == {shop_id}


@pytest.mark.parametrize(
    ("email", "password", "fragment"),
    [
        ("a@b.nl", " " * 12, "minstens 12"),
        ("a@b.nl", "\t" + " " * 12 + "\t", "minstens 12"),
        ("a@b.nl", "1234567890", "minstens 12"),
        ("a@b.nl", "  1QAZ2wsx3edc ", "te bekend"),
        ("a" * 250 + "@example.nl", "x" * 12, "not an e-mail"),
        ("a@b", "x" * 12, "not an e-mail"),
        ("a b@example.nl", "x" * 12, "not an e-mail"),
        ("<script>@example.nl", "x" * 12, "not an e-mail"),
    ],
)
def test_users_create_refuses_blank_passwords_and_bad_addresses(
    world: World, email: str, password: str, fragment: str
) -> None:
    runner = create_app(services=world.services).test_cli_runner()
    result = runner.invoke(
        args=["users", "create", email, "--password-stdin"], input=password + "\n"
    )
    assert result.exit_code == 2 and fragment in one_line_error(result)
    assert world.services.store.users.all() == []


def test_users_create_takes_no_password_on_the_command_line(world: World) -> None:
    runner = create_app(services=world.services).test_cli_runner()
    result = runner.invoke(args=["users", "create", "a@b.nl", "--password", "x" * 12])
    assert result.exit_code == 2 and "No such option" in result.output
    shop = runner.invoke(
        args=["users", "create", "a@b.nl", "--shop", str(world.shop.id), "--password-stdin"],
        input="x" * 12 + "\n",
    )
    assert shop.exit_code == 0, shop.output
    user = world.services.store.users.get_by_email("a@b.nl")
    assert user and not user.is_admin
    assert world.services.store.users.shop_ids(user.id) == {world.shop.id}
    missing = runner.invoke(
        args=["users", "create", "c@d.nl", "--shop", "424242", "--password-stdin"],
        input="x" * 12 + "\n",
    )
    assert missing.exit_code == 1 and "no shop with id 424242" in missing.output


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--shop", "424242", "--period", "2026-Q3"],
        ["book", "--shop", "424242", "1001"],
        ["reconcile", "--shop", "424242"],
    ],
    ids=["report", "book", "reconcile"],
)
def test_an_unknown_shop_id_says_where_the_ids_are(world: World, args: list[str]) -> None:
    """Issue 27: one English line (the commands' language) that says what to do."""
    runner = create_app(services=world.services).test_cli_runner()
    result = runner.invoke(args=args)
    assert result.exit_code == 2
    assert "error: no shop with id 424242; `flask shops list` shows the ids" in result.output
