""" "Instellingen" (Stap 2 van 2): the mapping table, statuses, install, refusals."""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from app.core.mapping_settings import INCOME_TYPES, MappingSettings, TaxRule
from app.states import ShopStatus
from app.store.shops import Shop
from app.web.mapping_form import add_oss_rule, ordered_rules, parse, remove_rule
from tests.web.helpers import Web, csrf, form_values, new_shop, shop_of, submit


def text(response: Any) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


@pytest.fixture
def shop_id(web: Web, client: FlaskClient) -> int:
    return new_shop(web, client)


def test_page_shows_the_mapping_table_from_the_chart_and_statuses(
    client: FlaskClient, shop_id: int
) -> None:
    page = text(client.get(f"/koppelingen/{shop_id}/instellingen"))
    assert "(Stap 2 van 2)" in page
    for label in ("BTW 21%", "BTW 9%", "BTW 0%", "BTW verlegd", "Export buiten de EU"):
        assert label in page
    for income in ("Omzet", "Verzendkosten", "Betaalkosten", "Korting"):
        assert income in page
    assert "8010 - Omzet groep 2" in page and "HOOG_VERK_21 - BTW hoog" in page
    assert 'value="3"' in page and "Betaald & afgehaald" in page and "Gecrediteerd" in page
    assert "Installeer de koppeling" in page


def test_install_saves_and_activates(web: Web, client: FlaskClient, shop_id: int) -> None:
    response = submit(
        client,
        shop_id,
        **{
            "rules.rate:21.verzendkosten": "8100",
            "payment_term_days": "30",
            "bookable_statuses": ["2", "3"],
        },
    )
    assert response.status_code == 302, text(response)
    shop = shop_of(web, shop_id)
    assert shop.status == ShopStatus.ACTIVE
    assert shop.mapping.rule("rate:21").ledgers["verzendkosten"] == "8100"
    assert shop.mapping.payment_term_days == 30
    assert shop.mapping.bookable_statuses == {2, 3}
    assert shop.mapping.status_names[3] == "Betaald"
    assert "De koppeling is geïnstalleerd" in text(client.get(response.location))
    assert "Installeer de koppeling" not in text(client.get(f"/koppelingen/{shop_id}/instellingen"))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"rules.rate:9.btw_code": "HOOG_VERK_21"},
            "rules.rate:9.btw_code",
            "BTW-code HOOG_VERK_21 hoort bij 21%, niet bij BTW 9%.",
        ),
        ({"rules.rate:21.omzet": ""}, "rules.rate:21.omzet", "Kies een grootboekrekening"),
        (
            {"rules.export.korting": "9999"},
            "rules.export.korting",
            "Grootboekrekening 9999 bestaat niet in uw e-Boekhouden.",
        ),
        ({"bookable_statuses": []}, "bookable_statuses", "Kies minstens één orderstatus"),
        ({"bookable_statuses": ["3", "77"]}, "bookable_statuses", "Kies alleen orderstatussen"),
        (
            {"booking_mode": "cash", "payment_ledgers.ideal": "9999"},
            "payment_ledgers.ideal",
            "Grootboekrekening 9999 bestaat niet in uw e-Boekhouden.",
        ),
        ({"payment_term_days": "veertien"}, "payment_term_days", "aantal dagen"),
        ({"booking_mode": "later"}, "booking_mode", "Kies hoe bestellingen geboekt worden."),
        # ASCII digits only: "²" made a 500 (isdigit() yes, int() no); others read as digits
        ({"payment_term_days": "²"}, "payment_term_days", "aantal dagen"),
        ({"payment_term_days": "١٤"}, "payment_term_days", "aantal dagen"),
        ({"payment_term_days": "１４"}, "payment_term_days", "aantal dagen"),
        ({"bookable_statuses": ["3", "²"]}, "bookable_statuses", "Kies alleen orderstatussen"),
        ({"bookable_statuses": ["3", "٣"]}, "bookable_statuses", "Kies alleen orderstatussen"),
        ({"debtors_ledger": ""}, "debtors_ledger", "Kies een grootboekrekening voor debiteuren"),
    ],
)
def test_invalid_combinations_are_refused_on_the_field(
    web: Web, client: FlaskClient, shop_id: int, changes: dict[str, Any], field: str, message: str
) -> None:
    response = submit(client, shop_id, **changes)
    page = text(response)
    assert response.status_code == 400
    assert "De koppeling is niet geïnstalleerd" in page
    assert f'<p class="field-error" id="error-{field}">' in page
    error = page.split(f'id="error-{field}">', 1)[1].split("</p>", 1)[0]
    assert message in error
    assert shop_of(web, shop_id).status == ShopStatus.DRAFT
    assert shop_of(web, shop_id).mapping == MappingSettings()  # nothing saved


def test_oss_country_row_can_be_added_saved_and_removed(
    web: Web, client: FlaskClient, shop_id: int
) -> None:
    response = submit(client, shop_id, "add_oss", oss_country="DE", oss_rate="19")
    page = text(response)
    assert response.status_code == 200 and "OSS DE 19%" in page
    assert "nog niet opgeslagen" in page
    assert shop_of(web, shop_id).mapping.rule("oss:DE:19") is None
    assert "e-Boekhouden kent geen OSS-code" in page and "te betalen OSS-btw" in page
    assert "rubriek 3c" in page and "AFST_VERK" in page
    data = form_values(response.get_data(as_text=True))
    # a new row is not pre-filled with the domestic revenue ledgers (8010/8000)
    assert data["rules.oss:DE:19.btw_code"] == "AFST_VERK"
    assert all(data.get(f"rules.oss:DE:19.{i}", "") == "" for i in (*INCOME_TYPES, "oss_btw"))
    data.update({"action": "install", "csrf_token": csrf(client, "/")})
    # the ledgers are the user's choice: without them, nothing is saved
    refused = client.post(f"/koppelingen/{shop_id}/instellingen", data=data)
    assert refused.status_code == 400
    assert "te betalen OSS-btw" in text(refused)
    data["rules.oss:DE:19.oss_btw"] = "1650"
    data["rules.oss:DE:19.omzet"] = "8010"  # the domestic 21% revenue ledger: refused
    shared = client.post(f"/koppelingen/{shop_id}/instellingen", data=data)
    assert shared.status_code == 400
    assert "Grootboekrekening 8010 wordt ook gebruikt voor BTW 21%" in text(shared)
    data["rules.oss:DE:19.omzet"] = "8040"
    saved = client.post(f"/koppelingen/{shop_id}/instellingen", data=data)
    assert saved.status_code == 302, re.findall(r'id="error-([^"]*)">([^<]*)', text(saved))
    rule = shop_of(web, shop_id).mapping.rule("oss:DE:19")
    assert rule is not None and rule.btw_code == "AFST_VERK"  # rubriek 3c; no OSS code exists
    assert rule.ledgers["oss_btw"] == "1650" and rule.ledger_for("omzet") == "8040"
    response = submit(client, shop_id, "remove:oss:DE:19")
    assert "OSS DE 19%" not in text(response)


@pytest.mark.parametrize(
    ("country", "rate", "message"),
    [
        ("NL", "21", "Kies een EU-land"),
        ("US", "10", "Kies een EU-land"),
        ("DE", "negentien", "Vul het btw-tarief"),
        ("DE", "45", "Vul het btw-tarief"),
        ("FR", "7", "Frankrijk (FR) kent geen btw-tarief van 7%"),
        ("DE", "21", "de tarieven zijn 19%, 7%, 0%"),
        ("BE", "5,5", "Vul een tarief van België in"),
        ("DE", "١٩", "Vul het btw-tarief"),
        ("DE", "1²", "Vul het btw-tarief"),
        ("DE", "19.", "Vul het btw-tarief"),
    ],
)
def test_invalid_oss_rows_are_refused(
    client: FlaskClient, shop_id: int, country: str, rate: str, message: str
) -> None:
    response = submit(client, shop_id, "add_oss", oss_country=country, oss_rate=rate)
    assert response.status_code == 400 and message in text(response)


def test_settings_page_survives_an_unreachable_bookkeeping(
    web: Web, client: FlaskClient, shop_id: int
) -> None:
    from app.errors import UpstreamUnavailableError

    def broken(shop: Shop) -> Any:
        raise UpstreamUnavailableError(
            "down", system="eboekhouden", explanation="e-Boekhouden is tijdelijk niet bereikbaar."
        )

    web.services.bookkeeping_factory = broken
    page = text(client.get(f"/koppelingen/{shop_id}/instellingen"))
    assert "De grootboekrekeningen konden niet uit e-Boekhouden.nl worden gehaald" in page
    assert "8010 (niet gevonden in e-Boekhouden)" in page  # the current values stay


class TestForm:
    """The pure form parsing."""

    def base_form(self) -> MultiDict[str, str]:
        data: MultiDict[str, str] = MultiDict()
        for rule in MappingSettings().rules:
            data.add("treatment", rule.treatment)
            data[f"rules.{rule.treatment}.btw_code"] = rule.btw_code
            for income in INCOME_TYPES:
                data[f"rules.{rule.treatment}.{income}"] = rule.ledger_for(income)
        data.update(
            {"debtors_ledger": "1300", "booking_mode": "invoice", "payment_term_days": "14"}
        )
        data.setlist("bookable_statuses", ["2", "3", "6"])
        data.setlist("credit_statuses", ["10"])
        return data

    def test_round_trip_of_the_defaults(self) -> None:
        settings, errors = parse(self.base_form(), MappingSettings())
        assert errors == {} and settings == MappingSettings()

    def test_unknown_treatments_are_ignored_and_standard_rows_kept(self) -> None:
        data = self.base_form()
        data.add("treatment", "oss:XX:5")
        data.add("treatment", "<script>")
        data.setlist("treatment", [t for t in data.getlist("treatment") if t != "export"])
        settings, _ = parse(data, MappingSettings())
        keys = [r.treatment for r in settings.rules]
        assert keys == ["rate:21", "rate:9", "rate:0", "reverse_charge", "export"]

    def test_oss_rules(self) -> None:
        settings, errors = add_oss_rule(MappingSettings(), "fr", "5,5")
        assert errors == {} and settings.rule("oss:FR:5.5") is not None
        _, errors = add_oss_rule(settings, "FR", "5.50")
        assert "al een regel" in errors["oss_rate"]
        assert remove_rule(settings, "oss:FR:5.5") == MappingSettings()
        assert remove_rule(settings, "rate:21") == settings
        assert [r.treatment for r in ordered_rules(settings.rules)][-1] == "oss:FR:5.5"

    def test_a_second_rate_of_a_country_takes_its_ledgers(self) -> None:
        first = MappingSettings().with_rule(
            TaxRule("oss:FR:20", "AFST_VERK", {"omzet": "8033", "oss_btw": "1633"})
        )
        settings, errors = add_oss_rule(first, "FR", "5,5")
        added = settings.rule("oss:FR:5.5")
        assert errors == {} and added is not None
        assert (added.btw_code, added.ledgers) == (
            "AFST_VERK",
            {"omzet": "8033", "oss_btw": "1633"},
        )
        other, _ = add_oss_rule(settings, "DE", "19")
        assert set(other.rule("oss:DE:19").ledgers.values()) == {""}  # type: ignore[union-attr]

    def test_vat_period(self) -> None:
        data = self.base_form()
        data["vat_period"] = "month"
        settings, errors = parse(data, MappingSettings())
        assert errors == {} and settings.vat_period == "month"
        data["vat_period"] = "week"
        _, errors = parse(data, MappingSettings())
        assert errors["vat_period"] == "Kies hoe vaak u btw-aangifte doet."


def test_invoice_number_format_is_a_setting(web: Web, client: FlaskClient, shop_id: int) -> None:
    page = text(client.get(f"/koppelingen/{shop_id}/instellingen"))
    assert "Factuurnummer in e-Boekhouden.nl" in page and "W1-{number}" in page
    response = submit(client, shop_id, invoice_format="W1-{number}")
    assert response.status_code == 302
    assert shop_of(web, shop_id).mapping.invoice_format == "W1-{number}"
    response = submit(client, shop_id, "save", invoice_format="W1-")
    assert response.status_code == 400
    assert "precies één keer {number}" in text(response)
    assert shop_of(web, shop_id).mapping.invoice_format == "W1-{number}"
    response = submit(client, shop_id, "save", invoice_format="")  # empty: the default
    assert shop_of(web, shop_id).mapping.invoice_format == "{number}"


def test_the_collective_debtor_is_a_setting(web: Web, client: FlaskClient, shop_id: int) -> None:
    page = text(client.get(f"/koppelingen/{shop_id}/instellingen"))
    assert "Verzameldebiteur voor particulieren" in page
    response = submit(client, shop_id, collective_debtor="PARTICULIER")
    assert response.status_code == 302
    assert shop_of(web, shop_id).mapping.collective_debtor == "PARTICULIER"
    response = submit(client, shop_id, "save", collective_debtor="P" * 16)
    assert response.status_code == 400
    assert "hoogstens 15 tekens" in text(response)
    assert shop_of(web, shop_id).mapping.collective_debtor == "PARTICULIER"
    submit(client, shop_id, "save", collective_debtor="")  # empty: a relation per customer
    assert shop_of(web, shop_id).mapping.collective_debtor == ""


def test_gift_cards_get_a_ledger_on_the_page(web: Web, client: FlaskClient, shop_id: int) -> None:
    page = text(client.get(f"/koppelingen/{shop_id}/instellingen"))
    assert "Cadeaubonnen" in page and "geen omzet maar een schuld" in page
    response = submit(client, shop_id, **{"line_types.gift_card": "1650"})
    assert response.status_code == 302
    assert shop_of(web, shop_id).mapping.line_type_ledgers == {
        "gift_card": "1650",
        "giftcard": "1650",
    }
    page = text(client.get(f"/koppelingen/{shop_id}/instellingen"))
    response = submit(client, shop_id, "save", **{"line_types.gift_card": ""})
    assert shop_of(web, shop_id).mapping.line_type_ledgers == {}


def test_form_keeps_line_types_mapped_elsewhere() -> None:
    base = MappingSettings(line_type_ledgers={"deposit": "8090", "gift_card": "1650"})
    form: MultiDict[str, str] = MultiDict({"line_types.voucher": "1651"})
    settings, _ = parse(form, base)
    assert settings.line_type_ledgers == {"deposit": "8090", "voucher": "1651"}


@pytest.mark.parametrize("path", ["/koppelingen/{id}", "/koppelingen/{id}?pagina=²"])
def test_ids_and_page_numbers_in_other_digits(client: FlaskClient, shop_id: int, path: str) -> None:
    """``/koppelingen/١`` is not shop 1 (404), and a page number that is no ASCII number
    is the first page, never a 500."""
    assert client.get(path.format(id=shop_id)).status_code == 200
    arabic = str(shop_id).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert client.get(path.format(id=arabic)).status_code == 404
