"""The one rule for email addresses: what is stored, what goes on the wire, what is refused."""

from __future__ import annotations

import pytest

from treffpunkt.addresses import (
    ASCII_LOCAL_PART,
    NOT_AN_ADDRESS,
    InvalidAddress,
    ascii_address,
    normalise_address,
)


def test_an_address_is_stored_trimmed_and_in_lower_case() -> None:
    assert normalise_address("  Anna.Schmidt@Example.ORG ") == "anna.schmidt@example.org"


def test_an_international_domain_is_accepted_and_stored_in_unicode_lower_case() -> None:
    assert normalise_address("Info@Köln.de") == "info@köln.de"


def test_the_ascii_form_of_an_international_domain_is_stored_as_the_same_address() -> None:
    assert normalise_address("INFO@XN--KLN-SNA.DE") == "info@köln.de"


def test_an_international_domain_goes_on_the_wire_in_idna() -> None:
    assert ascii_address("info@köln.de") == "info@xn--kln-sna.de"


def test_an_ascii_address_goes_on_the_wire_unchanged() -> None:
    assert ascii_address("anna@example.org") == "anna@example.org"


@pytest.mark.parametrize(
    "raw",
    [
        "anna@example.org\nBcc: everyone@example.org",
        "anna@example.org\r\nSubject: spam",
        "anna\n@example.org",
        "anna@exam\nple.org",
    ],
)
def test_a_line_break_inside_an_address_is_refused(raw: str) -> None:
    with pytest.raises(InvalidAddress):
        normalise_address(raw)


def test_a_non_ascii_local_part_is_refused_saying_so() -> None:
    with pytest.raises(InvalidAddress) as refused:
        normalise_address("jörg@example.org")

    assert refused.value.template == ASCII_LOCAL_PART


@pytest.mark.parametrize(
    "raw", ['"anna schmidt"@example.org', "anna@[192.0.2.1]", "anna@[IPv6:2001:db8::1]"]
)
def test_quoted_local_parts_and_ip_literals_are_refused(raw: str) -> None:
    with pytest.raises(InvalidAddress) as refused:
        normalise_address(raw)

    assert refused.value.template == NOT_AN_ADDRESS


def test_an_address_longer_than_254_characters_is_refused() -> None:
    too_long = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".example.org"
    assert len(too_long) > 254

    with pytest.raises(InvalidAddress):
        normalise_address(too_long)


@pytest.mark.parametrize(
    "raw", ["anna@example.test", "anna@host.localhost", "anna@printer.local", "anna@x.invalid"]
)
def test_special_use_domains_that_cannot_receive_mail_are_refused(raw: str) -> None:
    with pytest.raises(InvalidAddress):
        normalise_address(raw)


@pytest.mark.parametrize("raw", ["", "   ", "anna", "anna@", "@example.org", "anna@example"])
def test_text_that_is_no_address_is_refused(raw: str) -> None:
    with pytest.raises(InvalidAddress) as refused:
        normalise_address(raw)

    assert refused.value.template == NOT_AN_ADDRESS
