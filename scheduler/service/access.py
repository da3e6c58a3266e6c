"""The service's database from the command line: access tokens for ``schoolpost serve`` (made,
listed and revoked by ``schoolpost token``; a token is shown once, when it is made, and the
database keeps its SHA-256 only, so a copy of the database gives no way in), and the published
history (``schoolpost history``)."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from sqlalchemy import select

from models import InstanceError
from scheduler.service.db import (
    PLANNER,
    VIEWER,
    TokenRow,
    default_url,
    engine_for,
    migrate,
    now,
    published_duties,
    sessions,
    token_hash,
)

ROLES = (PLANNER, VIEWER)


def _sessions(data_dir: Path, db_url: str | None):
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = engine_for(db_url or default_url(data_dir))
    migrate(engine)
    return engine, sessions(engine)


def add_token(data_dir: Path, db_url: str | None, name: str, role: str) -> str:
    """Make a token named ``name`` with ``role``; returns the token (shown once, never stored)."""
    if role not in ROLES:
        raise InstanceError("--role", f"{role!r}: must be one of {', '.join(ROLES)}")
    name = name.strip()
    if not name or len(name) > 100:
        raise InstanceError("NAME", "a name of 1 to 100 characters, e.g. the planner's name")
    engine, Sessions = _sessions(data_dir, db_url)
    try:
        with Sessions.begin() as s:
            if s.scalars(select(TokenRow).where(TokenRow.name == name)).first() is not None:
                raise InstanceError("NAME", f"a token named {name!r} exists: revoke it first or choose another name")
            token = secrets.token_urlsafe(32)
            s.add(TokenRow(name=name, role=role, token_hash=token_hash(token)))
        return token
    finally:
        engine.dispose()


def list_tokens(data_dir: Path, db_url: str | None) -> list[dict]:
    engine, Sessions = _sessions(data_dir, db_url)
    try:
        with Sessions() as s:
            return [{"name": t.name, "role": t.role, "created_at": t.created_at.isoformat(),
                     "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None}
                    for t in s.scalars(select(TokenRow).order_by(TokenRow.id))]
    finally:
        engine.dispose()


def revoke_token(data_dir: Path, db_url: str | None, name: str) -> None:
    engine, Sessions = _sessions(data_dir, db_url)
    try:
        with Sessions.begin() as s:
            row = s.scalars(select(TokenRow).where(TokenRow.name == name, TokenRow.revoked_at.is_(None))).first()
            if row is None:
                raise InstanceError("NAME", f"no active token named {name!r}")
            row.revoked_at = now()
    finally:
        engine.dispose()


def history(data_dir: Path, db_url: str | None, *, person: str | None = None, school: str | None = None,
            since: dt.date | None = None) -> list[dict]:
    """Published duties of a person or a school, each week's newest version (``schoolpost history``)."""
    engine, Sessions = _sessions(data_dir, db_url)
    try:
        with Sessions() as s:
            return published_duties(s, person=person, school=school, since=since)
    finally:
        engine.dispose()


def has_planner_token(data_dir: Path, db_url: str | None) -> bool:
    engine, Sessions = _sessions(data_dir, db_url)
    try:
        with Sessions() as s:
            return s.scalars(select(TokenRow).where(TokenRow.role == PLANNER, TokenRow.revoked_at.is_(None))
                             ).first() is not None
    finally:
        engine.dispose()
