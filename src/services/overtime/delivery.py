"""Offer delivery: what an overtime offer says and how it is sent (:class:`OfferSender`).

Until an SMS/e-mail gateway is connected, :class:`LoggingOfferSender` logs each offer (ids only); :func:`contact`
in :mod:`.workflow` sends through it unless the caller passes its own sender.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Offer:
    """An overtime offer to one person (what an SMS or e-mail would say)."""

    request_code: str
    staff_id: str
    staff_name: str
    channel: str
    site: str
    unit: str | None
    shift_date: date
    shift_type: str
    start: datetime
    hours: float

    def text(self) -> str:
        where = self.site + (f", {self.unit}" if self.unit else "")
        return (f"Overtime offer {self.request_code}: {self.shift_type} shift on {self.shift_date:%a %d.%m.%Y} "
                f"from {self.start:%H:%M} ({self.hours:g} h) at {where}. Please reply yes or no.")


@dataclass(frozen=True)
class DeliveryReceipt:
    channel: str
    reference: str
    delivered: bool = True


class OfferSender(Protocol):
    """Delivers offers (SMS, e-mail, …). Raise an exception when delivery fails: nothing is recorded then."""

    def send(self, offer: Offer) -> DeliveryReceipt: ...


class LoggingOfferSender:
    """The delivery used until an SMS/e-mail gateway is connected: it logs the offer (ids only, no text)."""

    def __init__(self) -> None:
        self.sent: list[Offer] = []

    def send(self, offer: Offer) -> DeliveryReceipt:
        ref = f"log-{uuid.uuid4().hex[:12]}"
        self.sent.append(offer)
        log.info("overtime offer %s sent to staff %s via %s (ref %s)", offer.request_code, offer.staff_id,
                 offer.channel, ref)
        return DeliveryReceipt(channel=offer.channel, reference=ref, delivered=True)


_DEFAULT_SENDER = LoggingOfferSender()
