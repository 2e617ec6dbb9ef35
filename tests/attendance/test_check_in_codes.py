"""Signed check-in codes: what the QR ticket says and what the check-in API takes."""

from __future__ import annotations

import dataclasses
import re
import string

import pytest
import qrcode.util

from treffpunkt.attendance import codes
from treffpunkt.attendance.codes import CheckInCode, check_in_code, read_code
from treffpunkt.settings import Settings, get_settings

EVENT_ID = 17
REGISTRATION_ID = 4711
QR_ALPHANUMERIC = set(string.digits + string.ascii_uppercase + "-")


def code() -> str:
    return check_in_code(EVENT_ID, REGISTRATION_ID)


def signature(text: str) -> str:
    return text.rsplit("-", 1)[1]


def test_a_code_reads_back_as_its_event_and_registration() -> None:
    assert read_code(code()) == CheckInCode(event_id=EVENT_ID, registration_id=REGISTRATION_ID)


def test_a_code_is_the_same_every_time_it_is_made() -> None:
    assert code() == check_in_code(EVENT_ID, REGISTRATION_ID)


def test_a_code_holds_no_personal_data_only_tp_two_numbers_and_a_signature() -> None:
    assert re.fullmatch(rf"TP-{EVENT_ID}-{REGISTRATION_ID}-[A-Z2-7]{{20}}", code())


def test_a_code_uses_only_characters_of_qr_alphanumeric_mode() -> None:
    assert set(code()) <= QR_ALPHANUMERIC
    assert qrcode.util.optimal_mode(code().encode()) == qrcode.util.MODE_ALPHA_NUM


def test_codes_of_two_registrations_differ_in_their_signature() -> None:
    assert signature(check_in_code(EVENT_ID, 1)) != signature(check_in_code(EVENT_ID, 2))


def test_a_code_with_a_changed_registration_digit_is_refused() -> None:
    forged = code().replace(f"-{REGISTRATION_ID}-", f"-{REGISTRATION_ID + 1}-")

    assert forged != code()
    assert read_code(forged) is None


def test_a_code_moved_to_another_event_is_refused() -> None:
    moved = code().replace(f"TP-{EVENT_ID}-", f"TP-{EVENT_ID + 1}-")

    assert moved != code()
    assert read_code(moved) is None


def test_a_truncated_code_is_refused() -> None:
    assert read_code(code()[:-1]) is None


def test_a_code_with_one_garbled_signature_letter_is_refused() -> None:
    original = code()
    last = original[-1]
    garbled = original[:-1] + ("A" if last != "A" else "B")

    assert read_code(garbled) is None


def test_a_lower_cased_and_garbled_code_is_refused() -> None:
    original = code()
    garbled = (original[:-1] + ("A" if original[-1] != "A" else "B")).lower()

    assert read_code(garbled) is None


def test_a_code_typed_in_lower_case_with_spaces_around_is_read() -> None:
    assert read_code(f"  {code().lower()} ") == CheckInCode(EVENT_ID, REGISTRATION_ID)


@pytest.mark.parametrize(
    "text",
    ["", "TP", "TP--", f"XX-{EVENT_ID}-{REGISTRATION_ID}-AAAAAAAAAAAAAAAAAAAA", "not a code"],
)
def test_text_that_is_no_code_is_refused(text: str) -> None:
    assert read_code(text) is None


def test_a_code_signed_with_another_secret_key_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other: Settings = dataclasses.replace(get_settings(), secret_key="another-secret-" + "y" * 40)
    monkeypatch.setattr(codes, "get_settings", lambda: other)
    foreign = check_in_code(EVENT_ID, REGISTRATION_ID)
    monkeypatch.undo()

    assert foreign != code()
    assert read_code(foreign) is None
