"""The service's tables (SQLAlchemy 2) and their migrations (Alembic, ``migrations/``).

A SQLite file by default (no set-up), PostgreSQL by URL (``postgresql+psycopg://...``). The
schema is made only by the migrations (:func:`migrate`), never by ``create_all``, so a database
made by an older version is brought up to date the same way a new one is made.

- ``instances``: an uploaded instance file as it was uploaded (bytes), with its name and size;
- ``runs``: a solve of an instance, or a repair of an earlier run's roster (absent people from a
  date): queued, running, done, cancelled (best roster kept) or failed, its live progress and,
  once done, its summary; the files live in the run's folder;
- ``publications``: a published roster, frozen: a version number per instance name and week,
  the run it came from, the change list of a repair;
- ``assignments``: each published roster's rows (person, date, school, post, times), the history
  that ``schoolpost history`` and the next week read;
- ``tokens``: access tokens (their SHA-256 only) with a role, planner or viewer;
- ``feeds``: each person's private calendar feed token;
- ``absences``: a person marked absent from a date (whole days; ``start`` and ``end`` for part of
  a day are kept for later), with the repair run it asked for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")

#: a run's states; the last three are final
QUEUED, RUNNING, DONE, CANCELLED, FAILED = "queued", "running", "done", "cancelled", "failed"
FINAL = (DONE, CANCELLED, FAILED)
#: a run's kinds
SOLVE, REPAIR, WHATIF = "solve", "repair", "whatif"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class InstanceRow(Base):
    __tablename__ = "instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    #: yaml, json or xlsx: how ``content`` is read
    kind: Mapped[str] = mapped_column(String(8))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    week_start: Mapped[dt.date] = mapped_column(Date)
    schools: Mapped[int] = mapped_column(Integer)
    persons: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    #: its pins, ``[{person_id, date, peak, post, route}]``, read at upload
    pins: Mapped[list | None] = mapped_column(JSON, nullable=True)
    #: the instance this one was made from by a pin or an unpin on the page
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"), nullable=True)

    runs: Mapped[list[RunRow]] = relationship(back_populates="instance", order_by="RunRow.id")


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    time_limit: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: the solve process while it runs (a restarted server finds it gone)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: a cancel was asked for: the process was sent Ctrl-C and keeps its best roster
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    #: the last progress line: stage, elapsed, objective, bound, gap, coverage_cost
    progress: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    #: summary.json once the files are published
    summary: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    #: why it failed, in the command line's words
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: a note for the planner (e.g. "restarted after the server stopped")
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: solve; repair (of ``parent_id``'s roster, with ``params``: absent people, first date); or
    #: whatif (the instance and variants of it, ``params``: the scenarios file's text)
    kind: Mapped[str] = mapped_column(String(16), default=SOLVE, server_default=SOLVE)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), nullable=True)
    params: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    instance: Mapped[InstanceRow] = relationship(back_populates="runs")


class PublicationRow(Base):
    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("name", "week_start", "version", name="uq_publication_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    #: the instance's name and week: versions count per (name, week)
    name: Mapped[str] = mapped_column(String(200))
    week_start: Mapped[dt.date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    #: a repair's change list (rows of changes.csv); empty for a first publication
    changes: Mapped[list | None] = mapped_column(JSON, nullable=True)

    assignments: Mapped[list[AssignmentRow]] = relationship(back_populates="publication",
                                                            order_by="AssignmentRow.id")


class AssignmentRow(Base):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"), index=True)
    person_id: Mapped[str] = mapped_column(String(100), index=True)
    person_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    peak: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[str] = mapped_column(String(100), index=True)
    post_id: Mapped[str] = mapped_column(String(200))
    route_id: Mapped[str] = mapped_column(String(100))
    start: Mapped[str] = mapped_column(String(5))
    end: Mapped[str] = mapped_column(String(5))

    publication: Mapped[PublicationRow] = relationship(back_populates="assignments")


class AbsenceRow(Base):
    __tablename__ = "absences"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    person_id: Mapped[str] = mapped_column(String(100))
    date: Mapped[dt.date] = mapped_column(Date)
    start: Mapped[str | None] = mapped_column(String(5), nullable=True)
    end: Mapped[str | None] = mapped_column(String(5), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    #: the repair run that this absence asked for
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), nullable=True)


#: roles of an access token: a planner edits and publishes, a viewer reads
PLANNER, VIEWER = "planner", "viewer"


class TokenRow(Base):
    """An access token: only its SHA-256 is stored; the token itself is shown once, when made."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class FeedRow(Base):
    """A person's private calendar feed: ``/feeds/<token>.ics`` always shows their newest published
    duties. The token is the URL's secret (unguessable, 192 bits) and is kept as it is, so that a
    planner can hand the address out again."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(String(100), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


def newest_versions() -> tuple:
    """``(subquery, on clause)`` joining ``publications`` to each (name, week)'s newest version."""
    newest = (select(PublicationRow.name, PublicationRow.week_start, func.max(PublicationRow.version).label("v"))
              .group_by(PublicationRow.name, PublicationRow.week_start).subquery())
    return newest, ((PublicationRow.name == newest.c.name) & (PublicationRow.week_start == newest.c.week_start)
                    & (PublicationRow.version == newest.c.v))


def published_duties(s: Session, *, person: str | None = None, school: str | None = None,
                     since: dt.date | None = None) -> list[dict]:
    """Published duties of a person or a school (or all), each week's newest version only, in
    date order: the history the page, the API and ``schoolpost history`` answer."""
    q = (select(AssignmentRow, PublicationRow)
         .join(PublicationRow, AssignmentRow.publication_id == PublicationRow.id)
         .join(*newest_versions()))
    if person is not None:
        q = q.where(AssignmentRow.person_id == person)
    if school is not None:
        q = q.where(AssignmentRow.school_id == school)
    if since is not None:
        q = q.where(AssignmentRow.date >= since)
    q = q.order_by(AssignmentRow.date, AssignmentRow.start, AssignmentRow.id)
    return [{"date": a.date.isoformat(), "start": a.start, "end": a.end, "peak": a.peak, "school_id": a.school_id,
             "post_id": a.post_id, "route_id": a.route_id, "person_id": a.person_id, "person_name": a.person_name,
             "role": a.role, "roster": p.name, "version": p.version} for a, p in s.execute(q)]


def published_before(s: Session, week_start: dt.date, weeks: int) -> bool:
    """Whether a roster was published for one of the ``weeks`` weeks before ``week_start``."""
    first = week_start - dt.timedelta(days=7 * weeks)
    return weeks > 0 and s.scalars(select(AssignmentRow.id).where(
        AssignmentRow.date >= first, AssignmentRow.date < week_start).limit(1)).first() is not None


def history_for(s: Session, week_start: dt.date, person_ids: set[str], weeks: int) -> dict | None:
    """The ``history`` block (docs/SPEC.md) of a week from the published rosters: each person's
    duties in the ``weeks`` weeks before ``week_start`` (each week's newest version), and their posts
    and routes of the week just before. None when nothing was published then."""
    if weeks <= 0:
        return None
    first = week_start - dt.timedelta(days=7 * weeks)
    q = (select(AssignmentRow.person_id, AssignmentRow.date, AssignmentRow.post_id, AssignmentRow.route_id)
         .join(PublicationRow, AssignmentRow.publication_id == PublicationRow.id)
         .join(*newest_versions())
         .where(AssignmentRow.date >= first, AssignmentRow.date < week_start))
    loads: dict[str, int] = {}
    last: dict[str, dict[str, set[str]]] = {}
    previous = week_start - dt.timedelta(days=7)
    for person, date, post, route in s.execute(q):
        if person not in person_ids:
            continue
        loads[person] = loads.get(person, 0) + 1
        if date >= previous:
            entry = last.setdefault(person, {"posts": set(), "routes": set()})
            if post:
                entry["posts"].add(post)
            elif route:
                entry["routes"].add(route)
    if not loads:
        return None
    return {"weeks": weeks, "loads": dict(sorted(loads.items())),
            "last_week": {p: {"posts": sorted(e["posts"]), "routes": sorted(e["routes"])} for p, e in sorted(last.items())}}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'schoolpost.db').resolve()}"


def engine_for(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys and a busy timeout (the job runner and the
    page write from two threads)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(conn, _record):  # pragma: no cover - exercised by every SQLite test
            cur = conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()
        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (Alembic ``upgrade head``), from empty or from any
    older version."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        # SQLite alters a table by copying it (Alembic's batch mode), which its foreign keys would
        # refuse while other tables point at it: they are off during the migration (a PRAGMA that
        # only takes effect outside a transaction, so first) and checked after it
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        conn.commit()
        if sqlite:
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            if broken:
                raise RuntimeError(f"the database's references are broken after its migration: {broken[:3]}")


def sessions(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
