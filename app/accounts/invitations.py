"""An owner invites a person to one shop, as owner or meekijker: a one-time link that
expires (``INVITATION_TTL``), mailed through the alert SMTP, or shown to the owner to
pass on when SMTP is off (or the mail could not be sent).

The owner's answer is the same whether the address has an account or not (nobody learns
who has one); the link's page tells its holder whether to log in or choose a password.
Accepting uses the link up and links the account in one transaction.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from app.clients.mail import send_mail, smtp_config
from app.config import INVITATION_TTL
from app.errors import ConfigError
from app.services import Services
from app.states import ShopRole, ShopStatus
from app.store.engine import utcnow
from app.store.invitations import Invitation
from app.store.shops import Shop

log = logging.getLogger(__name__)
LOCAL = ZoneInfo("Europe/Amsterdam")
ROLE_LABELS = {ShopRole.OWNER: "eigenaar", ShopRole.VIEWER: "meekijker"}
ROLE_RIGHTS = {
    ShopRole.OWNER: "alles: boekingen, instellingen, gegevens, webhook en gebruikers",
    ShopRole.VIEWER: "meekijken: overzicht, boekingen, voorbeeld en Controle met downloads",
}


@dataclass(frozen=True, slots=True)
class Sent:
    """What the owner is told: the link when it was not mailed (to pass on by hand)."""

    invitation: Invitation
    link: str
    mailed: bool
    mail_failed: bool = False  # SMTP is set up but the mail did not go out


def link_for(services: Services, token: str) -> str:
    return f"{services.settings.public_base_url}/uitnodiging/{token}"


def invite(
    services: Services, shop: Shop, email: str, role: ShopRole, invited_by: str, inviter_id: int
) -> Sent:
    """A new invitation (replacing a pending one to this address), mailed when SMTP is on."""
    token, invitation = services.store.invitations.create(
        email=email, shop_id=shop.id, role=role, invited_by=inviter_id, ttl=INVITATION_TTL
    )
    link = link_for(services, token)
    try:
        config = smtp_config(services.settings)
    except (ValueError, ConfigError):  # SMTP_URL malformed: as if off (the logs say so)
        log.error("SMTP_URL is invalid: invitation not mailed")
        config = None
    if config is None:
        return Sent(invitation, link, mailed=False)
    try:
        send_mail(
            config, [invitation.email], _subject(shop), _body(shop, invitation, link, invited_by)
        )
    except (OSError, smtplib.SMTPException) as err:
        log.error("invitation not mailed: %s", type(err).__name__, extra={"shop_id": shop.id})
        return Sent(invitation, link, mailed=False, mail_failed=True)
    log.info("invitation mailed", extra={"shop_id": shop.id})
    return Sent(invitation, link, mailed=True)


def _subject(shop: Shop) -> str:
    return f"Uitnodiging voor de koppeling '{shop.name}'"


def _body(shop: Shop, invitation: Invitation, link: str, invited_by: str) -> str:
    until = invitation.expires_at.astimezone(LOCAL).strftime("%d-%m-%Y %H:%M")
    return "\n".join(
        [
            "Goedendag,",
            "",
            f"{invited_by} nodigt u uit voor de koppeling '{shop.name}' (Mijnwebwinkel → "
            f"e-Boekhouden.nl), als {ROLE_LABELS[invitation.role]}: "
            f"{ROLE_RIGHTS[invitation.role]}.",
            "",
            f"Aanvaard de uitnodiging met deze link. Hij werkt één keer, tot {until}:",
            link,
            "",
            "Heeft u nog geen account, dan kiest u daar een wachtwoord; anders logt u in met "
            "uw wachtwoord.",
            "",
            "Verwachtte u deze uitnodiging niet? Dan kunt u deze mail negeren: er gebeurt niets.",
        ]
    )


def usable(services: Services, invitation: Invitation | None) -> tuple[Invitation, Shop] | None:
    """The invitation and its shop, while the link may still be used (not used up, not
    expired, the shop not removed)."""
    if invitation is None or not invitation.usable(utcnow()):
        return None
    shop = services.load_shop(invitation.shop_id)
    if shop is None or shop.status == ShopStatus.REMOVED:
        return None
    return invitation, shop
