"""A shop whose stored row cannot be read (its secrets under another ``ENCRYPTION_KEY``,
or its settings damaged): what may still be said of it, and the error reading it raises.
ShopStore (app/store/shops.py) skips such shops in its listings."""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import ConfigError

SECRETS, DATA = "secrets", "data"  # why a shop cannot be read


@dataclass(frozen=True, slots=True)
class UnreadableShop:
    """What can be said of a shop whose row cannot be read: nothing secret."""

    id: int
    name: str
    status: str
    webhook_key: str
    problem: str  # SECRETS or DATA

    @property
    def explanation(self) -> str:
        if self.problem == SECRETS:
            return (
                "De opgeslagen inloggegevens kunnen niet worden ontsleuteld: ENCRYPTION_KEY mist "
                "de sleutel waarmee ze zijn opgeslagen. Zet die sleutel achter de nieuwe terug "
                "en voer `flask --app app keys rotate` uit, of vul de gegevens opnieuw in."
            )
        return (
            "De opgeslagen instellingen van deze koppeling zijn beschadigd en kunnen niet "
            "worden gelezen. Neem contact op met de beheerder."
        )


class UnreadableShopError(ConfigError):
    """This one shop's row cannot be read (``shop.explanation`` says what to do)."""

    def __init__(self, shop: UnreadableShop) -> None:
        super().__init__(f"shop {shop.id} cannot be read ({shop.problem})")
        self.shop = shop
        self.explanation = shop.explanation
