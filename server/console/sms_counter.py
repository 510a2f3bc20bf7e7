"""The reply box's SMS counter, as the server renders it (the page's script keeps it live with
the same rules: server/static/console.js, checked against this and against Twilio's
sms-segments-calculator in tests/test_console_browser.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.messaging.sms.encoding import GSM7, MAX_SEGMENTS, encoding, segments, septets, units


@dataclass(frozen=True)
class SmsCount:
    characters: int
    encoding: str
    segments: int

    @property
    def describe(self) -> str:
        if not self.characters:
            return "0 characters: nothing to send yet."
        over = f" More than {MAX_SEGMENTS} segments costs more." \
            if self.segments > MAX_SEGMENTS else ""
        plural = "s" if self.segments != 1 else ""
        return (f"{self.characters} characters, {self.segments} SMS segment{plural} "
                f"({self.encoding}).{over}")


def sms_count(text: str) -> SmsCount:
    kind = encoding(text)
    size = septets(text) if kind == GSM7 else units(text)
    return SmsCount(size, kind, segments(text))
