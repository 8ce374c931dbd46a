"""Sending one message to one Apprise URL, with the URL's secrets kept out of every text.

An Apprise URL carries credentials (a Telegram bot token, an SMTP password, a webhook
token). A `Target` keeps the URL itself out of `repr`, and exposes only `id` (a hash, what
the database stores) and `label` (Apprise's own privacy form: `tgram://1...r/-100123`,
`mailto://user:****@host`), and `redact` removes every part of the URL that the label does
not show from any text (Apprise's error messages can quote them). Apprise's log records go
to a capture buffer, never to the process's stderr.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass, field

import apprise

from openclaw_telemetry.delivery_log import target_id

_TYPES = {"info": apprise.NotifyType.INFO, "warning": apprise.NotifyType.WARNING,
          "critical": apprise.NotifyType.FAILURE, "resolved": apprise.NotifyType.SUCCESS}
_PARTS = re.compile(r"[/:@?&=#,;+]")
_SAID = frozenset({"WARNING", "ERROR", "CRITICAL"})
# the innermost cause urllib3 quotes: "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify
# failed: self-signed certificate (_ssl.c:1006)", "[Errno 111] Connection refused"
_CAUSE = re.compile(r"\[(?:SSL: \w+|Errno -?\d+)\] ([^'\"()]+?)(?: \(_ssl\.c:\d+\))?['\")]")
logging.getLogger("apprise").addHandler(logging.NullHandler())
logging.getLogger("apprise").propagate = False


@dataclass(frozen=True, slots=True)
class Target:
    """One configured Apprise URL. Print `label`, store `id`; never `url`."""

    url: str = field(repr=False)
    id: str
    label: str
    secrets: tuple[str, ...] = field(repr=False)

    def redact(self, text: str) -> str:
        """`text` with the URL and each of its secret parts replaced by '***'."""
        for secret in sorted((self.url, *self.secrets), key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


def target(url: str) -> Target:
    """The Target of an Apprise URL; a URL Apprise cannot read gets the label
    `<scheme>://(not a valid Apprise URL)` and fails when sent to."""
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    label = (str(plugin.url(privacy=True)).split("?", 1)[0]  # type: ignore[no-untyped-call]
             if plugin
             else f"{scheme}://(not a valid Apprise URL)")
    rest = url.split("://", 1)[-1]
    shown = set(_PARTS.split(label.split("://", 1)[-1]))
    secrets = tuple(part for part in _PARTS.split(rest) if len(part) >= 4 and part not in shown)
    return Target(url, target_id(url), label, secrets)


def send(to: Target, *, title: str, body: str, level: str) -> str | None:
    """Deliver one message; None when the receiver took it, else a redacted reason.
    `level` is a severity or 'resolved' (the colour/icon the service shows)."""
    with (apprise.LogCapture(level=logging.DEBUG) as log,  # type: ignore[no-untyped-call]
          warnings.catch_warnings()):
        # a URL with ?verify=no trusts its receiver on purpose: urllib3's warning about it
        # would be two lines on stderr with a file path
        warnings.filterwarnings("ignore", message="Unverified HTTPS request")
        sender = apprise.Apprise()
        if not sender.add(to.url):
            return "not a valid Apprise URL"
        try:
            # plain text: names in it come from the data (a chat's title), and Apprise
            # escapes text for the services that show HTML (e-mail, Telegram)
            ok = bool(sender.notify(body=body, title=title, notify_type=_TYPES[level],
                                    body_format=apprise.NotifyFormat.TEXT))
        except Exception as exc:  # a plugin's bug must not stop the other targets
            return to.redact(f"{type(exc).__name__}: {exc}")
        captured = log.getvalue() if hasattr(log, "getvalue") else ""
    return None if ok else to.redact(_reason(captured))


def _reason(captured: str) -> str:
    """Apprise's last warnings or errors, and the cause its debug lines name (a refused
    connection, a certificate that is not trusted), which the warning leaves out."""
    records = [line.split(" - ", 2) for line in captured.splitlines() if line.count(" - ") >= 2]
    said = [text for _at, level, text in records if level in _SAID]
    causes = [found.group(1) for _at, level, text in records if level == "DEBUG"
              for found in [_CAUSE.search(text)] if found]
    reason = "; ".join(said[-2:]) or "the receiver did not accept the message"
    return f"{reason} ({causes[-1]})" if causes and causes[-1] not in reason else reason
