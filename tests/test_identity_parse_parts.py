"""`_parse_parts` (the uncached parse a routing index uses) agrees with `EmailAddress.parse`."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stakeholder import EmailAddress, InvalidEmail
from stakeholder._identity import _parse_parts

_PIECES = st.sampled_from(
    [
        "a", "Jane", "JANE", "jane.doe", "+", "+news", "-", ".", "..", "@", "@@", "<", ">",
        "<>", '"', "'", " ", "  ", "\t", "\r\n", "\x00", "\x7f", "mailto:", "MAILTO:", "?x=1",
        "acme", "ACME", "com", ".com", ".co.uk", "xn--bcher-kva", "bücher", "localhost",
        ".local", "1.2.3.4", "[1.2.3.4]", "-x", "x-", "--", ",", ";", ":", "\\", "é", "а",
    ]
)


def _expected(raw: str) -> tuple[str, str] | tuple[str, str, str]:
    try:
        address = EmailAddress.parse(raw)
    except InvalidEmail as exc:
        return ("error", raw, exc.reason)
    return (address.local, address.domain)


def _got(raw: str) -> tuple[str, str] | tuple[str, str, str]:
    result = _parse_parts(raw)
    if isinstance(result, InvalidEmail):
        return ("error", raw, result.reason)
    return result


@settings(max_examples=600, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_parse_parts_agrees_with_parse_on_pieces(raw: str) -> None:
    assert _got(raw) == _expected(raw)


@settings(max_examples=300, deadline=None)
@given(
    name=st.lists(_PIECES, max_size=4).map("".join),
    local=st.from_regex(r"[A-Za-z0-9._+-]{1,12}", fullmatch=True),
    domain=st.from_regex(r"([A-Za-z0-9-]{1,8}\.){1,3}[A-Za-z]{2,5}", fullmatch=True),
    pad=st.sampled_from(["", " ", "  ", "\t"]),
)
def test_parse_parts_agrees_on_display_name_forms(name: str, local: str, domain: str,
                                                  pad: str) -> None:
    for raw in (
        f"{local}@{domain}",
        f"{pad}{name} <{pad}{local}@{domain}{pad}>{pad}",
        f"{name}<{local}@{domain}>",
        f'"{name}" <{local}@{domain}>',
        f"<mailto:{local}@{domain}>",
    ):
        assert _got(raw) == _expected(raw), raw


def test_parse_parts_examples() -> None:
    assert _parse_parts("Some Person <JANE.DOE+CRM@ACME.COM>") == ("jane.doe", "acme.com")
    assert _parse_parts("jane@acme.com") == ("jane", "acme.com")
    assert isinstance(_parse_parts("undisclosed-recipients:;"), InvalidEmail)
    assert isinstance(_parse_parts("x" * 2000 + "@acme.com"), InvalidEmail)
    assert isinstance(_parse_parts("Jane <jane@acme.com>\x00"), InvalidEmail)
