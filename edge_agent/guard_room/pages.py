"""The guard-room pages: server-rendered HTML (Jinja2, autoescaped), no script, no CDN, every
word Simplified Chinese. Thin: each route checks the login and the CSRF token, calls one
:class:`~edge_agent.guard_room.service.GuardRoom` method and renders its answer.

    GET  /guard             today's visitors, doors, open a door by hand, latest passages
    GET  /guard/live        latest passages and door state (refreshes itself every 5 s)
    GET  /guard/walk-in     register a walk-in visitor
    POST /guard/walk-in     register: the slip (PIN and QR code) is shown this once
    POST /guard/release     open a door by hand, with a reason
    GET|POST /guard/login, POST /guard/logout
"""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path
from urllib.parse import quote

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from edge_agent.errors import GuardRoomError, ReleaseNotRecorded
from edge_agent.guard_room.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    GuardAuth,
    Session,
    tokens_match,
)
from edge_agent.guard_room.config import GuardRoomConfig
from edge_agent.guard_room.service import GuardRoom, WalkInRequest
from edge_agent.http import PageReply, PageRequest

_LOGGER = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
WORDS: dict[str, str] = json.loads((Path(__file__).parent / "words.json").read_text("utf-8"))
NOTICES = ("opened", "throttled", "unknown_gate", "door_failed", "not_recorded", "logged_out")


def _stay(value: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise GuardRoomError("error_stay_number") from None


def _notice(key: str) -> str:
    return WORDS[f"notice_{key}"] if key in NOTICES else ""


class GuardRoomPages:
    def __init__(self, config: GuardRoomConfig, room: GuardRoom) -> None:
        self.config = config
        self.room = room
        self.auth = GuardAuth(config)
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals["words"] = WORDS
        self.env.filters["door"] = lambda state: WORDS.get(f"door_{state}", str(state))
        self.env.filters["hm"] = lambda at: room.local(at).strftime("%m-%d %H:%M")
        self.env.filters["gate"] = room.gate_label
        self.env.filters["house"] = lambda house_id, labels: labels.get(house_id, house_id)

    # ------------------------------------------------------------------ plumbing

    def _error(self, status: int, key: str) -> PageReply:
        return self._render("error.html", status, message=WORDS.get(key, key))

    def _render(self, name: str, status: int = 200, **context: object) -> PageReply:
        body = self.env.get_template(name).render(**context).encode()
        return PageReply(status, body)

    @staticmethod
    def _redirect(to: str, *cookies: str) -> PageReply:
        headers = [("Location", to), *(("Set-Cookie", c) for c in cookies)]
        return PageReply(303, b"", headers=headers)

    def handle(self, request: PageRequest) -> PageReply:
        try:
            return self._route(request)
        except Exception:  # a page error must never take the gate's endpoint down
            _LOGGER.exception("guard-room page %s %s failed", request.method, request.path)
            return self._error(500, "error_internal")

    def _route(self, request: PageRequest) -> PageReply:
        path = request.path.rstrip("/") or "/guard"
        if path == "/guard/login":
            return self._login(request)
        session = self.auth.session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            if request.method == "POST":
                return self._error(401, "error_log_in_first")
            return self._redirect("/guard/login")
        if request.method == "POST" and not tokens_match(
            request.form.get("csrf", ""), session.csrf
        ):
            return self._error(403, "error_form_expired")
        routes = {
            ("GET", "/guard"): self._home,
            ("GET", "/guard/live"): self._live,
            ("GET", "/guard/walk-in"): self._walk_in_form,
            ("POST", "/guard/walk-in"): self._walk_in,
            ("POST", "/guard/release"): self._release,
            ("POST", "/guard/logout"): self._logout,
        }
        handler = routes.get((request.method, path))
        if handler is None:
            return self._error(404, "error_not_found")
        return handler(request, session)

    # ------------------------------------------------------------------ login

    def _login(self, request: PageRequest) -> PageReply:
        if request.method == "GET":
            token = secrets.token_urlsafe(24)
            reply = self._render(
                "login.html", csrf=token, error="", notice=_notice(request.query.get("notice", ""))
            )
            reply.headers.append(("Set-Cookie", self.auth.cookie(LOGIN_COOKIE, token, 1800)))
            return reply
        form = request.form
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not tokens_match(form.get("csrf", ""), expected):
            return self._error(403, "error_login_expired")
        name = form.get("username", "").strip()
        if self.auth.throttle.blocked(f"addr:{request.address}", f"name:{name[:64]}"):
            return self._render(
                "login.html", 429, csrf=expected, error=WORDS["error_login_throttled"]
            )
        session = self.auth.log_in(name, form.get("password", ""), request.address)
        if session is None:
            return self._render("login.html", 401, csrf=expected, error=WORDS["error_login_wrong"])
        _LOGGER.info("guard %s logged in from %s", name, request.address)
        return self._redirect(
            "/guard", self.auth.session_cookie(session), self.auth.cookie(LOGIN_COOKIE, "", 0)
        )

    def _logout(self, request: PageRequest, session: Session) -> PageReply:
        self.auth.log_out(session.token)
        return self._redirect(
            "/guard/login?notice=logged_out", self.auth.cookie(SESSION_COOKIE, "", 0)
        )

    # ------------------------------------------------------------------ pages

    def _home(self, request: PageRequest, session: Session) -> PageReply:
        return self._render(
            "home.html",
            session=session,
            notice=_notice(request.query.get("notice", "")),
            visitors=self.room.todays_visitors(),
            labels=self.room.house_labels(),
            doors=self.room.doors.status(),
            gates=self.room.gates,
            passages=self.room.recent_passages()[:10],
        )

    def _live(self, request: PageRequest, session: Session) -> PageReply:
        return self._render(
            "live.html",
            session=session,
            doors=self.room.doors.status(),
            passages=self.room.recent_passages(),
        )

    def _walk_in_form(
        self, request: PageRequest, session: Session, error: str = "", status: int = 200
    ) -> PageReply:
        return self._render(
            "walk_in.html",
            status,
            session=session,
            houses=self.room.house_choices(),
            form=request.form,
            error=error,
            default_stay=self.config.default_stay_hours,
            max_stay=self.config.max_stay_hours,
        )

    def _walk_in(self, request: PageRequest, session: Session) -> PageReply:
        form = request.form
        try:
            walk_in = WalkInRequest(
                visitor_name=form.get("name", ""),
                phone=form.get("phone", ""),
                house_id=form.get("house", ""),
                purpose=form.get("purpose", ""),
                stay_hours=_stay(form.get("stay_hours", "")),
            )
            slip = self.room.register(walk_in, session.guard)
        except GuardRoomError as exc:
            return self._walk_in_form(
                request, session, WORDS.get(exc.reason, exc.reason), exc.status
            )
        qr = segno.make(slip.qr, error="m")
        # segno's own SVG markup, from a payload this edge generated
        svg = Markup(qr.svg_inline(scale=5, dark="#000", light="#fff", omitsize=False))  # noqa: S704
        return self._render(
            "slip.html", session=session, slip=slip, qr_svg=svg, labels=self.room.house_labels()
        )

    def _release(self, request: PageRequest, session: Session) -> PageReply:
        try:
            release = self.room.release(
                request.form.get("gate", ""), request.form.get("reason", ""), session.guard
            )
        except GuardRoomError as exc:
            return self._error(exc.status, exc.reason)
        except ReleaseNotRecorded:
            return self._redirect("/guard?notice=not_recorded")
        notice = "opened" if release.opened else (release.detail or "door_failed")
        if notice == "door actuator failed":
            notice = "door_failed"
        return self._redirect(f"/guard?notice={quote(notice)}")
