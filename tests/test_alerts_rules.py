"""Rules from TOML: every key read, user-defined stages, and errors that name the rule,
the field and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from stakeholder import CommKind
from stakeholder._errors import InputFileError
from stakeholder.alerts import (
    Combine,
    CtaPriority,
    EscalationPolicy,
    LowUsage,
    MissedMilestone,
    MissedTouchpoint,
    RuleError,
    load_rules,
    parse_rules,
)

FULL = """
stages = ["Onboarding", "Adoption", "Renewal", "Expansion"]

[notify]
email_from = "alerts@example.com"
smtp_host = "127.0.0.1"
smtp_port = 2525
slack_webhook = "http://127.0.0.1:9/slack"

[[rule]]
id = "health"
name = "Expansion account going quiet"
stages = ["Expansion"]
combine = "any"
priority = "urgent"
notify_priority = "high"
channels = ["email", "slack"]
type = "risk"
due_days = 3
cooldown_days = 14
frequency_days = 30
[rule.filter]
segment = ["Enterprise", "Mid-market"]
not_status = "churned"
[[rule.trigger]]
kind = "missed-milestone"
tasks = "Expansion*"
within_days = 45
[[rule.trigger]]
kind = "low-usage"
metric = "logins"
below = 10
periods = 3
[[rule.trigger]]
kind = "missed-touchpoint"
within_days = 90
comm_kind = "meeting"
subject = ["business review", "QBR"]
[rule.escalation]
after_days = 7
chain = ["owner", "field:manager", "vp@example.com"]
"""


def test_every_key_is_read() -> None:
    rules = parse_rules(FULL)
    assert rules.stages == ("Onboarding", "Adoption", "Renewal", "Expansion")
    assert rules.notify.smtp_port == 2525
    (rule,) = rules.rules
    assert rule.id == "health"
    assert rule.combine is Combine.ANY
    assert rule.priority is CtaPriority.URGENT
    assert rule.channels == ("email", "slack")
    assert (rule.due_days, rule.cooldown_days, rule.frequency_days) == (3, 14, 30)
    assert rule.triggers == (
        MissedMilestone(tasks=("Expansion*",), within_days=45),
        LowUsage("logins", 10.0, 3),
        MissedTouchpoint(90, CommKind.MEETING, ("QBR", "business review")),
    )
    assert rule.escalation == EscalationPolicy(7, ("owner", "field:manager", "vp@example.com"))
    assert {(f.field, f.negate) for f in rule.filters} == {("segment", False), ("status", True)}


def test_defaults_and_default_stages(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('[[rule]]\nid = "r"\n[[rule.trigger]]\nkind = "low-usage"\n'
                    'metric = "seats"\nbelow = 1\n', encoding="utf-8")
    rules = load_rules(path)
    assert rules.stages == ("Onboarding", "Adoption", "Renewal")
    (rule,) = rules.rules
    assert (rule.name, rule.priority, rule.notify_priority) == ("r", CtaPriority.MEDIUM,
                                                               CtaPriority.HIGH)
    with pytest.raises(InputFileError):
        load_rules(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("text", "rule", "field", "reason"),
    [
        ('[[rule]]\nname = "x"\n', "#1", "id", "is required"),
        ('[[rule]]\nid = "r"\n', "r", "trigger", "at least one"),
        ('[[rule]]\nid = "r"\npriority = "mega"\n[[rule.trigger]]\nkind = "low-usage"\n'
         'metric = "m"\nbelow = 1\n', "r", "priority", "'mega' is not one of"),
        ('[[rule]]\nid = "r"\n[[rule.trigger]]\nkind = "low-usage"\nmetric = "m"\n'
         'below = "low"\n', "r", "trigger[1].below", "must be a float"),
        ('[[rule]]\nid = "r"\n[[rule.trigger]]\nkind = "nap"\n', "r", "trigger[1].kind",
         "'nap' is not one of"),
        ('[[rule]]\nid = "r"\n[[rule.trigger]]\nkind = "missed-touchpoint"\n'
         'within_days = -1\n', "r", "trigger[1].within_days", ">= 0"),
        ('[[rule]]\nid = "r"\n[[rule.trigger]]\nkind = "missed-touchpoint"\n'
         'within_days = 3\nsubject = "(unclosed"\n', "r", "trigger[1].subject",
         "not a regular expression"),
        ('[[rule]]\nid = "r"\nstages = ["Nirvana"]\n[[rule.trigger]]\nkind = "low-usage"\n'
         'metric = "m"\nbelow = 1\n', "r", "stages", "unknown stage 'Nirvana'"),
        ('[[rule]]\nid = "r"\nchannels = ["pager"]\n[[rule.trigger]]\nkind = "low-usage"\n'
         'metric = "m"\nbelow = 1\n', "r", "channels", "'pager' is not one of"),
        ('[[rule]]\nid = "r"\ncooldwn_days = 3\n[[rule.trigger]]\nkind = "low-usage"\n'
         'metric = "m"\nbelow = 1\n', "r", "cooldwn_days", "unknown key"),
        ('[[rule]]\nid = "r"\n[rule.escalation]\nafter_days = 0\n[[rule.trigger]]\n'
         'kind = "low-usage"\nmetric = "m"\nbelow = 1\n', "r", "escalation.after_days",
         "at least 1"),
        ('[[rule]]\nid = "r"\n[[rule.trigger]]\nkind = "low-usage"\nmetric = "m"\nbelow = 1\n'
         '[[rule]]\nid = "r"\n[[rule.trigger]]\nkind = "low-usage"\nmetric = "m"\nbelow = 1\n',
         "r", "id", "two rules"),
        ("rule = 3 = 4", "-", "-", "not valid TOML"),
    ],
)
def test_errors_name_the_rule_the_field_and_the_reason(
    text: str, rule: str, field: str, reason: str
) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rules(text)
    error = caught.value
    assert (error.rule, error.field) == (rule, field)
    assert reason in error.reason
    assert isinstance(error, ValueError)
    assert f"rule {rule!r}, field {field!r}" in str(error)
