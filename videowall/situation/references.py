"""Which zones and cameras a site has: updates naming others are refused with the field."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from videowall.situation.envelope import Envelope, Kind, MessageError, Op
from videowall.situation.models import Incident, Unit


def _refused(field: str, what: str, value: str) -> MessageError:
    return MessageError(f"{field}: unknown {what} {value!r:.70} (not in the site)", "unknown_ref")


@dataclass(frozen=True, slots=True)
class KnownReferences:
    """The site's zone and camera ids; None where the server was not told (anything goes)."""

    zones: frozenset[str] | None = None
    cameras: frozenset[str] | None = None

    @classmethod
    def of(cls, zones: Iterable[str] | None = None,
           cameras: Iterable[str] | None = None) -> KnownReferences:
        return cls(None if zones is None else frozenset(zones),
                   None if cameras is None else frozenset(cameras))

    def check(self, env: Envelope) -> None:
        """MessageError (code `unknown_ref`) if `env` names a zone or camera not known here."""
        if env.op is Op.DELETE:
            return  # deleting what is not there is a no-op anyway
        data = env.data
        if self.zones is not None:
            if isinstance(data, Incident) and data.zone is not None and \
                    data.zone not in self.zones:
                raise _refused("data.zone", "zone", data.zone)
            if env.kind is Kind.ZONE and data.id not in self.zones:
                raise _refused("data.id", "zone", data.id)
        if self.cameras is not None and env.kind is Kind.CAMERA and \
                data.id not in self.cameras:
            raise _refused("data.id", "camera", data.id)
        if self.cameras is not None and isinstance(data, Unit) and data.camera is not None \
                and data.camera not in self.cameras:
            raise _refused("data.camera", "camera", data.camera)
