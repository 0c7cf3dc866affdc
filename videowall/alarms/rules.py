"""Does an incident or an ext message raise an alarm under a rule of the site file."""

from __future__ import annotations

from videowall.config.alarms import AlarmRule
from videowall.situation.models import AlertLevel, ExtMessage, Incident

ALERT_RANK = {AlertLevel.NORMAL: 0, AlertLevel.ELEVATED: 1, AlertLevel.HIGH: 2,
              AlertLevel.CRITICAL: 3}


def incident_matches(rule: AlarmRule, incident: Incident, *,
                     zone_alert: AlertLevel = AlertLevel.NORMAL, overdue: bool = False) -> bool:
    """Whether the open incident meets every condition of the rule's trigger."""
    when = rule.when
    if when.ext is not None or not incident.is_open:
        return False
    if when.risks is not None and incident.risk.value not in when.risks:
        return False
    if when.categories is not None and incident.category not in when.categories:
        return False
    if incident.status.value not in when.statuses:
        return False
    if when.zones is not None and incident.zone not in when.zones:
        return False
    if incident.reports < when.min_reports:
        return False
    if when.zone_alert is not None and \
            ALERT_RANK[zone_alert] < ALERT_RANK[AlertLevel(when.zone_alert)]:
        return False
    return not when.overdue or overdue


def ext_camera(rule: AlarmRule, message: ExtMessage) -> str | None:
    """The camera an ext message asks for under the rule ('' if it names none), or None
    when the message does not raise this rule's alarm."""
    trigger = rule.when.ext
    if trigger is None or message.type != trigger.type:
        return None
    payload = message.payload
    if trigger.field is not None:
        value = payload.get(trigger.field)
        if trigger.values and str(value) not in trigger.values:
            return None
        if not trigger.values and not value:
            return None
    camera = payload.get(trigger.camera_field)
    return camera if isinstance(camera, str) else ""
