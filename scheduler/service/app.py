"""The FastAPI application: the REST API (``/api/...``, documented at ``/docs``) and the planners'
page (server-rendered Jinja2 templates, a few lines of JavaScript for live progress).

One upload is checked exactly as the command line checks a file (the same messages; HTTP 422
where the command line exits 2). A solve is a background job (:mod:`scheduler.service.jobs`).
A published roster is frozen in the database with a version number per instance name and week.

Forms carry a CSRF token (double-submit: a random cookie repeated in a hidden field), uploads
have a size limit, and no file path from a request reaches the file system (downloads are looked
up by exact name among the files a run published).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import InstanceError
from models.errors import InstanceErrors
from scheduler.service import views
from scheduler.service.db import (
    CANCELLED,
    DONE,
    FINAL,
    PLANNER,
    QUEUED,
    REPAIR,
    WHATIF,
    AbsenceRow,
    AssignmentRow,
    FeedRow,
    InstanceRow,
    PublicationRow,
    RunRow,
    TokenRow,
    default_url,
    engine_for,
    migrate,
    newest_versions,
    published_duties,
    sessions,
    token_hash,
)
from scheduler.service.jobs import JobRunner, output_folder

HERE = Path(__file__).parent
#: the largest upload taken (bytes); a district's workbook is about 1 MB
MAX_UPLOAD = 20 * 1024 * 1024
KINDS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".xlsx": "xlsx"}
CSRF_COOKIE = "schoolpost_csrf"
TOKEN_COOKIE = "schoolpost_token"
#: paths anyone may read: the login page, static files, and the calendar feeds (their URL's token
#: is the secret)
OPEN_PATHS = ("/login", "/static/", "/feeds/")
READ_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass
class Settings:
    data_dir: Path
    db_url: str | None = None
    #: solves at once (the rest wait in the queue)
    slots: int = 1
    max_upload: int = MAX_UPLOAD
    #: the solve program (tests may give a wrapper); default this interpreter's ``python -m scheduler``
    command: list[str] | None = None
    #: start the job runner with the app (tests of the API alone may not)
    run_jobs: bool = True
    #: ask for an access token even when none is configured (a non-loopback address)
    require_auth: bool = False
    #: published weeks before an instance's week whose duties count in its fairness (0: none)
    history_weeks: int = 4
    #: a Dask scheduler's address: runs go to its workers instead of local processes
    scheduler: str | None = None


def get_db(request: Request):
    """A database session for one request (the app's session factory)."""
    with request.app.state.sessions() as s:
        yield s


DB = Annotated[Session, Depends(get_db)]
Upload = Annotated[UploadFile, File(description="the instance file")]
CsrfField = Annotated[str, Form()]


DEFAULT_TIME_LIMIT = 60.0


class RunRequest(BaseModel):
    time_limit: float = Field(DEFAULT_TIME_LIMIT, ge=1.0, le=86400.0, description="seconds for the whole solve, files included")


class PinRequest(BaseModel):
    person_id: str
    date: dt.date
    peak: str
    post: str | None = None
    route: str | None = None
    #: true: pin the person to the duty; false: take that pin away
    pin: bool = True


class RepairRequest(BaseModel):
    absent: list[str] = Field(..., min_length=1, description="ids of the people who are absent")
    from_date: dt.date | None = Field(None, alias="from",
                                      description="first date of the absence (default: the first date)")
    time_limit: float = Field(30.0, ge=1.0, le=86400.0)

    model_config = {"populate_by_name": True}


Form_ = TypeVar("Form_", bound=BaseModel)


def _form(model: type[Form_], data: dict) -> Form_:
    """A form's fields as ``model``; a bad one is HTTP 422 naming it."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise HTTPException(422, f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None


def _message(exc: InstanceError) -> str:
    return "\n".join(exc.lines()) if isinstance(exc, InstanceErrors) else str(exc)


def check_upload(filename: str, content: bytes) -> tuple[str, Any]:
    """(kind, Instance) of an uploaded file, checked as ``schoolpost solve`` checks one; raises
    :class:`InstanceError` with the command line's message."""
    from models import instance_from_data, load_document
    from scheduler.check.pins import require_pins_possible
    from scheduler.duties import check_size

    suffix = Path(filename or "").suffix.lower()
    kind = KINDS.get(suffix)
    if kind is None:
        raise InstanceError("file", f"{filename or 'the upload'}: not an instance file (.yaml, .yml, .json or .xlsx)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("upload" + (".yaml" if kind == "yaml" else suffix))
        path.write_bytes(content)
        doc = load_document(path)
        check_size(doc)
        inst = instance_from_data(doc)
    require_pins_possible(inst)
    return kind, inst


def create_app(settings: Settings) -> FastAPI:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = engine_for(settings.db_url or default_url(settings.data_dir))
    migrate(engine)
    Sessions = sessions(engine)
    runner = JobRunner(Sessions, settings.data_dir, slots=settings.slots, command=settings.command,
                       history_weeks=settings.history_weeks, scheduler=settings.scheduler)

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if settings.run_jobs:
            runner.start()
        try:
            yield
        finally:
            if settings.run_jobs:
                await asyncio.to_thread(runner.stop)
            engine.dispose()

    app = FastAPI(title="schoolpost", version=_version(),
                  description="School protection post rosters: upload an instance, solve it, read and publish "
                              "the roster.", lifespan=lifespan)
    app.state.settings, app.state.runner, app.state.sessions = settings, runner, Sessions
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")

    def role_of(token: str | None) -> str | None:
        """The role of an active access token, None for none or a wrong one."""
        if not token:
            return None
        with Sessions() as s:
            row = s.scalars(select(TokenRow).where(TokenRow.token_hash == token_hash(token),
                                                   TokenRow.revoked_at.is_(None))).first()
            return row.role if row is not None else None

    def auth_required() -> bool:
        if settings.require_auth:
            return True
        with Sessions() as s:
            return s.scalar(select(func.count()).select_from(TokenRow).where(TokenRow.revoked_at.is_(None))) > 0

    @app.middleware("http")
    async def access(request: Request, call_next):
        """With access tokens configured (or on a non-loopback address): a planner's token edits
        and publishes, a viewer's reads. The API takes ``Authorization: Bearer <token>``; the page
        a cookie set by /login, which reads but, for the API, never changes anything (a form from
        another site could send it; the page's own forms carry their CSRF token)."""
        path = request.url.path
        if path.startswith(OPEN_PATHS) or not await asyncio.to_thread(auth_required):
            request.state.role = PLANNER
            return await call_next(request)
        header = request.headers.get("authorization", "")
        bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
        cookie = request.cookies.get(TOKEN_COOKIE)
        api = path.startswith(("/api/", "/docs", "/openapi.json", "/redoc"))
        token = bearer or (cookie if not api or request.method in READ_METHODS else None)
        role = await asyncio.to_thread(role_of, token)
        if role is None:
            if api:
                return JSONResponse({"detail": "an access token is needed: Authorization: Bearer <token>"},
                                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
            return RedirectResponse("/login", status_code=303)
        if request.method not in READ_METHODS and role != PLANNER:
            return JSONResponse({"detail": f"a {role} may read, not change: a planner's token is needed"},
                                status_code=403)
        request.state.role = role
        return await call_next(request)

    # -- helpers ----------------------------------------------------------------------------

    def get_instance(s: Session, instance_id: int) -> InstanceRow:
        row = s.get(InstanceRow, instance_id)
        if row is None:
            raise HTTPException(404, f"no instance {instance_id}")
        return row

    def get_run(s: Session, run_id: int) -> RunRow:
        row = s.get(RunRow, run_id)
        if row is None:
            raise HTTPException(404, f"no run {run_id}")
        return row

    def out_of(run: RunRow) -> Path:
        return output_folder(settings.data_dir, run.id)

    async def read_upload(file: UploadFile) -> bytes:
        content = await file.read(settings.max_upload + 1)
        if len(content) > settings.max_upload:
            raise HTTPException(413, f"the file is larger than {settings.max_upload // (1024 * 1024)} MB")
        return content

    def store_instance(s: Session, filename: str, content: bytes, parent: int | None = None) -> InstanceRow:
        kind, inst = check_upload(filename, content)
        pins = [{"person_id": p.id, "date": pin.date.isoformat(), "peak": pin.peak, "post": pin.post or "",
                 "route": pin.route or ""} for p in inst.persons for pin in p.pins]
        row = InstanceRow(name=inst.name, filename=Path(filename).name[:255], kind=kind, content=content,
                          sha256=hashlib.sha256(content).hexdigest(), week_start=inst.week_start,
                          schools=len(inst.schools), persons=len(inst.persons), pins=pins, parent_id=parent)
        s.add(row)
        s.commit()
        return row

    def pinned_instance(s: Session, base: InstanceRow, change: PinRequest) -> InstanceRow:
        """A new instance: ``base`` with ``change``'s pin added (or taken away), as YAML; checked as
        an upload is (pins that break a hard rule together are refused, HTTP 422, in the command
        line's words)."""
        import yaml

        from models import load_document

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / ("instance" + {"yaml": ".yaml", "json": ".json", "xlsx": ".xlsx"}[base.kind])
            path.write_bytes(base.content)
            doc = load_document(path)
        people = doc.get("persons") or []
        person = next((p for p in people if isinstance(p, dict) and str(p.get("id", "")).strip() == change.person_id),
                      None)
        if person is None:
            raise HTTPException(422, f"person_id: no person {change.person_id!r} in {base.name}")
        entry: dict[str, str] = {"date": change.date.isoformat(), "peak": change.peak}
        entry.update({"post": change.post} if change.post else {"route": cast(str, change.route)})
        pins = [dict(p) for p in (person.get("pins") or [])]
        same = [p for p in pins if str(p.get("date")) == entry["date"] and p.get("peak") == entry["peak"]
                and (p.get("post") or None) == change.post and (p.get("route") or None) == change.route]
        if change.pin:
            if same:
                raise HTTPException(409, f"{change.person_id} is already pinned there")
            pins.append(entry)
        else:
            if not same:
                raise HTTPException(409, f"{change.person_id} is not pinned there")
            pins = [p for p in pins if p not in same]
        person["pins"] = pins
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode("utf-8")
        stem = Path(base.filename).stem
        try:
            return store_instance(s, f"{stem}-{'pin' if change.pin else 'unpin'}.yaml", text, parent=base.id)
        except InstanceError as exc:
            raise HTTPException(422, _message(exc)) from None

    def queue_run(s: Session, instance: InstanceRow, time_limit: float) -> RunRow:
        run = RunRow(instance_id=instance.id, status=QUEUED, time_limit=time_limit)
        s.add(run)
        s.commit()
        runner.wake()
        return run

    def queue_repair(s: Session, parent: RunRow, request: RepairRequest) -> RunRow:
        """A repair of ``parent``'s roster for the absences (a ``schoolpost repair`` process): the
        fewest changes, coverage first; nothing is published until the planner accepts it."""
        if (parent.kind == WHATIF or parent.status not in (DONE, CANCELLED)
                or not (parent.summary or {}).get("valid", False)):
            raise HTTPException(409, f"run {parent.id} has no valid roster to repair ({parent.kind} {parent.status})")
        _, inst = check_upload(parent.instance.filename, parent.instance.content)
        known = {p.id for p in inst.persons}
        unknown = [p for p in request.absent if p not in known]
        if unknown:
            raise HTTPException(422, f"absent: no person {unknown[0]!r} in {inst.name}")
        run = RunRow(instance_id=parent.instance_id, status=QUEUED, time_limit=request.time_limit, kind=REPAIR,
                     parent_id=parent.id, params={"absent": list(request.absent),
                                                  "from": request.from_date.isoformat() if request.from_date else None})
        s.add(run)
        s.flush()
        first = request.from_date or min(inst.date_of(day) for day in inst.days)
        for person in request.absent:
            s.add(AbsenceRow(instance_id=parent.instance_id, person_id=person, date=first, run_id=run.id))
        s.commit()
        runner.wake()
        return run

    def publish(s: Session, run: RunRow) -> PublicationRow:
        if run.kind == WHATIF:
            raise HTTPException(409, f"run {run.id} compares what-if variants: publish a solve of the variant "
                                     "you choose (upload it as an instance)")
        if run.status not in (DONE, CANCELLED) or run.summary is None:
            raise HTTPException(409, f"run {run.id} has no roster to publish ({run.status})")
        if not run.summary.get("valid", False):
            raise HTTPException(409, f"run {run.id}'s roster breaks a hard rule: it cannot be published")
        inst = run.instance
        last = s.scalar(select(func.max(PublicationRow.version)).where(
            PublicationRow.name == inst.name, PublicationRow.week_start == inst.week_start)) or 0
        pub = PublicationRow(instance_id=inst.id, run_id=run.id, name=inst.name, week_start=inst.week_start,
                             version=last + 1, changes=views.changes(out_of(run)) if run.kind == REPAIR else [])
        for r in views.roster_rows(out_of(run)):
            pub.assignments.append(AssignmentRow(
                person_id=r["person_id"], person_name=r["person_name"], role=r["role"],
                date=dt.date.fromisoformat(r["date"]), peak=r["peak"], school_id=r.get("school_id") or "",
                post_id=r.get("post_id") or "", route_id=r.get("route_id") or "", start=r["start"], end=r["end"]))
        s.add(pub)
        have = set(s.scalars(select(FeedRow.person_id)))
        for person in sorted({a.person_id for a in pub.assignments} - have):
            s.add(FeedRow(person_id=person, token=secrets.token_urlsafe(24)))
        try:
            s.commit()
        except IntegrityError:  # another publish of the same week took this version meanwhile
            s.rollback()
            raise HTTPException(409, f"{inst.name}, week of {inst.week_start}: another version was published at "
                                     f"the same moment; publish again") from None
        return pub

    def result_json(run: RunRow) -> dict | None:
        summary = run.summary or {}
        if not summary:
            return None
        if run.kind == WHATIF:
            # the baseline and each variant: every roster checked, and the coverage rules that changed
            valid = summary.get("valid") or {}
            return {"valid": bool(valid) and all(valid.values()), "variants": list(valid),
                    "explanations": summary.get("explanations"), "kpis": summary.get("kpis")}
        return {**{k: summary.get(k) for k in ("status", "valid", "objective", "best_bound", "gap",
                                               "shortfall_bound", "assignments", "gaps", "reproducible")},
                # a repair's summary has the people missing among its terms, and its changes
                "shortfall": summary.get("shortfall", (summary.get("terms") or {}).get("shortfall")),
                "changes": (summary.get("repair") or {}).get("changes")}

    def run_json(run: RunRow) -> dict:
        return {
            "id": run.id, "instance_id": run.instance_id, "status": run.status, "time_limit": run.time_limit,
            "created_at": _iso(run.created_at), "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at), "progress": run.progress, "error": run.error, "note": run.note,
            "cancel_requested": run.cancel_requested, "kind": run.kind, "parent_id": run.parent_id,
            "params": run.params,
            "result": result_json(run),
            "files": sorted(views.files(out_of(run))) if run.status in FINAL else [],
        }

    def instance_json(row: InstanceRow) -> dict:
        return {"id": row.id, "name": row.name, "filename": row.filename, "kind": row.kind,
                "pins": row.pins or [], "parent_id": row.parent_id,
                "week_start": row.week_start.isoformat(), "schools": row.schools, "persons": row.persons,
                "sha256": row.sha256, "uploaded_at": _iso(row.uploaded_at)}

    # -- CSRF (forms only; the JSON API takes no cookies' authority) ---------------------------

    def csrf_token(request: Request) -> str:
        return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)

    def page(request: Request, name: str, context: dict, status: int = 200) -> HTMLResponse:
        token = csrf_token(request)
        role = getattr(request.state, "role", PLANNER)
        response = templates.TemplateResponse(request, name, {**context, "csrf": token, "role": role,
                                                              "signed_in": bool(request.cookies.get(TOKEN_COOKIE))},
                                               status_code=status)
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict")
        return response

    def check_csrf(request: Request, token: str) -> None:
        cookie = request.cookies.get(CSRF_COOKIE)
        if not cookie or not token or not hmac.compare_digest(cookie, token):
            raise HTTPException(403, "the form is stale or was not sent by this page: reload the page and try again")

    # -- the API ----------------------------------------------------------------------------

    @app.post("/api/instances", status_code=201, tags=["instances"],
              summary="Upload an instance (YAML, JSON or the .xlsx template)",
              responses={422: {"description": "the file's first error, by field or by sheet, row and column"}})
    async def api_upload(file: Upload, s: DB):
        content = await read_upload(file)
        try:
            row = await asyncio.to_thread(store_instance, s, file.filename or "", content)
        except InstanceError as exc:
            return JSONResponse({"detail": _message(exc)}, status_code=422)
        return instance_json(row)

    @app.get("/api/instances", tags=["instances"], summary="Uploaded instances, newest first")
    def api_instances(s: DB):
        return [instance_json(r) for r in s.scalars(select(InstanceRow).order_by(InstanceRow.id.desc()))]

    @app.post("/api/instances/{instance_id}/pins", status_code=201, tags=["instances"],
              summary="Pin a person to a duty (or take a pin away): a new instance, to solve again",
              responses={422: {"description": "the pins break a hard rule together, or an unknown person or duty"}})
    def api_pin(instance_id: int, body: PinRequest, s: DB):
        if (body.post is None) == (body.route is None):
            raise HTTPException(422, "give exactly one of post and route")
        return instance_json(pinned_instance(s, get_instance(s, instance_id), body))

    @app.get("/api/instances/{instance_id}", tags=["instances"])
    def api_instance(instance_id: int, s: DB):
        return instance_json(get_instance(s, instance_id))

    @app.post("/api/instances/{instance_id}/runs", status_code=202, tags=["runs"],
              summary="Queue a solve of the instance; it runs in a worker process")
    def api_solve(instance_id: int, s: DB, body: RunRequest | None = None):
        run = queue_run(s, get_instance(s, instance_id), body.time_limit if body is not None else DEFAULT_TIME_LIMIT)
        return run_json(run)

    def queue_whatif(s: Session, instance: InstanceRow, filename: str, content: bytes, time_limit: float) -> RunRow:
        """A what-if comparison: ``schoolpost whatif`` on the instance and the scenarios file (its
        own checks name a bad field when it runs; here only that the file reads as YAML or JSON)."""
        from models.loader import parse_document

        suffix = Path(filename or "scenarios.yaml").suffix.lower()
        try:
            text = content.decode("utf-8")
            doc = parse_document(text, ".json" if suffix == ".json" else ".yaml")
        except (UnicodeDecodeError, InstanceError, ValueError) as exc:
            raise HTTPException(422, f"{filename or 'the scenarios file'}: not a YAML or JSON scenarios file "
                                     f"({str(exc).splitlines()[0]})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("scenarios"), list) or not doc["scenarios"]:
            raise HTTPException(422, "scenarios: a list of scenarios is needed (docs/WHATIF.md)")
        limit = RunRequest(time_limit=time_limit).time_limit
        run = RunRow(instance_id=instance.id, status=QUEUED, time_limit=limit, kind=WHATIF,
                     params={"scenarios": text, "filename": Path(filename or "scenarios.yaml").name[:255]})
        s.add(run)
        s.commit()
        runner.wake()
        return run

    @app.post("/api/instances/{instance_id}/whatif", status_code=202, tags=["runs"],
              summary="Compare what-if variants of the instance side by side (a scenarios file, docs/WHATIF.md)")
    async def api_whatif(instance_id: int, file: Upload, s: DB, time_limit: Annotated[float, Form()] = 60.0):
        content = await read_upload(file)
        run = queue_whatif(s, get_instance(s, instance_id), file.filename or "", content, time_limit)
        return run_json(run)

    @app.get("/api/runs", tags=["runs"], summary="Runs, newest first")
    def api_runs(s: DB):
        return [run_json(r) for r in s.scalars(select(RunRow).order_by(RunRow.id.desc()))]

    @app.get("/api/runs/{run_id}", tags=["runs"], summary="A run's status, live progress and result")
    def api_run(run_id: int, s: DB):
        return run_json(get_run(s, run_id))

    @app.post("/api/runs/{run_id}/cancel", status_code=202, tags=["runs"],
              summary="Stop a run; a running solve publishes the best roster found so far")
    def api_cancel(run_id: int, s: DB):
        run = get_run(s, run_id)
        if run.status not in FINAL:
            run.cancel_requested = True
            s.commit()
            runner.wake()
        return run_json(run)

    @app.get("/api/runs/{run_id}/events", tags=["runs"],
             summary="Server-sent events: the run's status and progress until it ends")
    async def api_events(run_id: int, request: Request):
        with Sessions() as s:
            get_run(s, run_id)

        async def stream():
            last = None
            while not await request.is_disconnected():
                with Sessions() as s:
                    run = s.get(RunRow, run_id)
                    state = None if run is None else {"status": run.status, "progress": run.progress,
                                                      "error": run.error}
                if state != last:
                    yield f"data: {json.dumps(state)}\n\n"
                    last = state
                if state is None or state["status"] in FINAL:
                    return
                await asyncio.sleep(0.5)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    @app.get("/api/runs/{run_id}/files", tags=["runs"], summary="The files the run published")
    def api_files(run_id: int, s: DB):
        return sorted(views.files(out_of(get_run(s, run_id))))

    @app.get("/api/runs/{run_id}/files/{name:path}", tags=["runs"], summary="Download one published file")
    def api_file(run_id: int, name: str, s: DB):
        found = views.files(out_of(get_run(s, run_id))).get(name)
        if found is None:
            raise HTTPException(404, f"run {run_id} published no file {name!r}")
        return FileResponse(found, filename=Path(name).name)

    @app.get("/api/runs/{run_id}/roster", tags=["runs"],
             summary="The roster at a glance: school x date coverage, and the gaps with their reasons")
    def api_roster(run_id: int, s: DB):
        out = out_of(get_run(s, run_id))
        gap_rows = views.gaps(out)
        return {"heatmap": views.heatmap(views.roster_rows(out), gap_rows).as_json(), "gaps": gap_rows}

    @app.post("/api/runs/{run_id}/repair", status_code=202, tags=["runs"],
              summary="Mark people absent from a date and repair the run's roster with the fewest changes",
              responses={409: {"description": "the run has no valid roster"},
                         422: {"description": "an unknown person"}})
    def api_repair(run_id: int, body: RepairRequest, s: DB):
        parent = get_run(s, run_id)
        return run_json(queue_repair(s, parent, body))

    @app.get("/api/runs/{run_id}/changes", tags=["runs"],
             summary="A repair's changes (changes.csv): what would change if it is published")
    def api_changes(run_id: int, s: DB):
        return views.changes(out_of(get_run(s, run_id)))

    def cover(run: RunRow, date: str, peak: str, post: str | None, route: str | None) -> dict:
        """``schoolpost recommend`` on the run's roster, in a process of its own (the engine stays
        out of the server), its JSON answer; HTTP 422 with its message for a duty it does not know."""
        if run.status not in (DONE, CANCELLED) or run.summary is None:
            raise HTTPException(409, f"run {run.id} has no roster ({run.status})")
        if (post is None) == (route is None):
            raise HTTPException(422, "give one of post or route")
        folder = output_folder(settings.data_dir, run.id).parent
        # the instance the run solved: with the published weeks' history when it had one
        source = next((p for p in [folder / "instance-history.yaml", *sorted(folder.glob("instance.*"))]
                       if p.is_file()), None)
        if source is None:
            raise HTTPException(409, f"run {run.id} has no instance file")
        args = [*(settings.command or [sys.executable, "-m", "scheduler"]), "recommend", str(source),
                str(out_of(run)), "--date", date, "--peak", peak, "--json"]
        args += ["--post", post] if post is not None else ["--route", cast(str, route)]
        done = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False,
                              stdin=subprocess.DEVNULL)
        if done.returncode == 2:
            raise HTTPException(422, done.stderr.strip().removeprefix("error: "))
        if done.returncode != 0:
            raise HTTPException(500, done.stderr.strip()[-500:] or f"recommend ended with {done.returncode}")
        return json.loads(done.stdout)

    @app.get("/api/runs/{run_id}/recommend", tags=["runs"],
             summary="Who can cover this duty? Every eligible person, cheapest first, with the exact change of "
                     "the score and the coverage rules strained")
    def api_recommend(run_id: int, date: str, peak: str, s: DB, post: str | None = None, route: str | None = None):
        return cover(get_run(s, run_id), date, peak, post, route)

    @app.get("/runs/{run_id}/cover", response_class=HTMLResponse, include_in_schema=False)
    def cover_page(request: Request, run_id: int, date: str, peak: str, s: DB, post: str | None = None,
                   route: str | None = None):
        run = get_run(s, run_id)
        return page(request, "cover.html", {"run": run, "instance": run.instance,
                                            "answer": cover(run, date, peak, post, route)})

    @app.post("/api/runs/{run_id}/publish", status_code=201, tags=["publications"],
              summary="Publish the run's roster: frozen, with the next version number of its week")
    def api_publish(run_id: int, s: DB):
        pub = publish(s, get_run(s, run_id))
        return publication_json(pub)

    def publication_json(pub: PublicationRow) -> dict:
        return {"id": pub.id, "run_id": pub.run_id, "instance_id": pub.instance_id, "name": pub.name,
                "week_start": pub.week_start.isoformat(), "version": pub.version,
                "published_at": _iso(pub.published_at), "assignments": len(pub.assignments),
                "changes": len(pub.changes or [])}

    @app.get("/api/publications", tags=["publications"], summary="Published rosters, newest first")
    def api_publications(s: DB):
        return [publication_json(p) for p in s.scalars(select(PublicationRow).order_by(PublicationRow.id.desc()))]

    @app.get("/api/history/persons/{person_id}", tags=["history"],
             summary="A person's published duties, each week's newest version")
    def api_person_history(person_id: str, s: DB):
        return published_duties(s, person=person_id)

    @app.get("/api/history/schools/{school_id}", tags=["history"],
             summary="A school's published duties, each week's newest version")
    def api_school_history(school_id: str, s: DB):
        return published_duties(s, school=school_id)

    @app.get("/api/feeds", tags=["publications"],
             summary="Each person's private calendar feed address (/feeds/<token>.ics)")
    def api_feeds(request: Request, s: DB):
        base = str(request.base_url).rstrip("/")
        return [{"person_id": f.person_id, "url": f"{base}/feeds/{f.token}.ics"}
                for f in s.scalars(select(FeedRow).order_by(FeedRow.person_id))]

    @app.get("/feeds/{token}.ics", include_in_schema=False)
    def feed(token: str, s: DB):
        """A person's newest published duties of every week, as one calendar: the events of each
        week's newest publication (a repair's calendar keeps the UIDs, raises SEQUENCE where a duty
        changed, and shows a duty taken away as cancelled)."""
        row = s.scalars(select(FeedRow).where(FeedRow.token == token)).first()
        if row is None:
            raise HTTPException(404, "no such calendar")
        return Response(feed_calendar(s, row.person_id), media_type="text/calendar; charset=utf-8")

    def feed_calendar(s: Session, person_id: str) -> bytes:
        from icalendar import Calendar

        pubs = s.scalars(select(PublicationRow).join(*newest_versions())
                         .order_by(PublicationRow.week_start, PublicationRow.name))
        cal = Calendar()
        cal.add("prodid", "-//schoolpost//feed//EN")
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("x-wr-calname", f"School posts: {person_id}")
        zones: set[str] = set()
        marker = f"X-SCHOOLPOST-PERSON:{person_id}".encode()
        for pub in pubs:
            folder = output_folder(settings.data_dir, pub.run_id) / "calendars"
            for path in sorted(folder.glob("*.ics")) if folder.is_dir() else []:
                data = path.read_bytes()
                if marker not in data:  # a quick look before parsing; the property decides
                    continue
                whose = Calendar.from_ical(data)
                if str(whose.get("x-schoolpost-person")) != person_id:
                    continue
                for component in whose.subcomponents:
                    if component.name == "VTIMEZONE":
                        if str(component.get("tzid")) in zones:
                            continue
                        zones.add(str(component.get("tzid")))
                    cal.add_component(component)
        return cal.to_ical()

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request):
        return page(request, "login.html", {})

    @app.post("/login", include_in_schema=False)
    def login(request: Request, token: Annotated[str, Form()], csrf: CsrfField = ""):
        check_csrf(request, csrf)
        if role_of(token.strip()) is None:
            return page(request, "login.html", {"error": "this token is not known (or was revoked)"}, status=403)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(TOKEN_COOKIE, token.strip(), httponly=True, samesite="strict")
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, csrf: CsrfField = ""):
        check_csrf(request, csrf)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(TOKEN_COOKIE)
        return response

    # -- the page ---------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request, s: DB):
        return page(request, "index.html", index_context(s))

    def index_context(s: Session) -> dict:
        return {"instances": list(s.scalars(select(InstanceRow).order_by(InstanceRow.id.desc()).limit(50))),
                "publications": list(s.scalars(select(PublicationRow).order_by(PublicationRow.id.desc()).limit(20)))}

    @app.post("/upload", include_in_schema=False)
    async def upload_form(request: Request, file: Upload, s: DB, csrf: CsrfField = ""):
        check_csrf(request, csrf)
        content = await read_upload(file)
        try:
            row = await asyncio.to_thread(store_instance, s, file.filename or "", content)
        except InstanceError as exc:
            return page(request, "index.html", {**index_context(s), "error": _message(exc),
                                                "filename": file.filename}, status=422)
        return RedirectResponse(f"/instances/{row.id}", status_code=303)

    @app.get("/instances/{instance_id}", response_class=HTMLResponse, include_in_schema=False)
    def instance_page(request: Request, instance_id: int, s: DB):
        return page(request, "instance.html", {"instance": get_instance(s, instance_id)})

    @app.post("/instances/{instance_id}/solve", include_in_schema=False)
    def solve_form(request: Request, instance_id: int, s: DB, time_limit: Annotated[float, Form()] = 60.0,
                   csrf: CsrfField = ""):
        check_csrf(request, csrf)
        limit = RunRequest(time_limit=time_limit).time_limit
        run = queue_run(s, get_instance(s, instance_id), limit)
        return RedirectResponse(f"/runs/{run.id}", status_code=303)

    @app.get("/runs/{run_id}", response_class=HTMLResponse, include_in_schema=False)
    def run_page(request: Request, run_id: int, s: DB, school: str | None = None, person: str | None = None):
        run = get_run(s, run_id)
        out = out_of(run)
        context: dict[str, Any] = {"run": run, "instance": run.instance, "state": run_json(run)}
        if run.kind == WHATIF:
            context["files"] = sorted(views.files(out)) if run.status in FINAL else []
            return page(request, "run.html", context)
        if run.status in FINAL and run.summary is not None:
            roster, gap_rows = views.roster_rows(out), views.gaps(out)  # each file read once
            heat = views.heatmap(roster, gap_rows)
            context.update(heat=heat, gaps=gap_rows[:200], gap_count=len(gap_rows),
                           files=sorted(views.files(out)), people=views.people(roster),
                           school=school, person=person,
                           school_rows=views.school_duties(roster, school) if school else None,
                           person_rows=views.person_week(roster, person) if person else None,
                           publications=list(s.scalars(select(PublicationRow).where(PublicationRow.run_id == run.id))),
                           changes=views.changes(out) if run.kind == REPAIR else None,
                           pinned={(p["person_id"], p["date"], p["peak"], p["post"], p["route"])
                                   for p in (run.instance.pins or [])},
                           today=dt.date.today().isoformat())
        return page(request, "run.html", context)

    @app.post("/runs/{run_id}/cancel", include_in_schema=False)
    def cancel_form(request: Request, run_id: int, s: DB, csrf: CsrfField = ""):
        check_csrf(request, csrf)
        api_cancel(run_id, s)
        return RedirectResponse(f"/runs/{run_id}", status_code=303)

    @app.post("/runs/{run_id}/repair", include_in_schema=False)
    def repair_form(request: Request, run_id: int, s: DB, absent: Annotated[str, Form()],
                    from_date: Annotated[str, Form()] = "", time_limit: Annotated[float, Form()] = 30.0,
                    csrf: CsrfField = ""):
        check_csrf(request, csrf)
        body = _form(RepairRequest, {"absent": [absent], "from": from_date or None, "time_limit": time_limit})
        run = queue_repair(s, get_run(s, run_id), body)
        return RedirectResponse(f"/runs/{run.id}", status_code=303)

    @app.post("/instances/{instance_id}/whatif", include_in_schema=False)
    async def whatif_form(request: Request, instance_id: int, file: Upload, s: DB,
                          time_limit: Annotated[float, Form()] = 60.0, csrf: CsrfField = ""):
        check_csrf(request, csrf)
        content = await read_upload(file)
        inst = get_instance(s, instance_id)
        try:
            run = queue_whatif(s, inst, file.filename or "", content, time_limit)
        except HTTPException as exc:
            if exc.status_code != 422:
                raise
            return page(request, "instance.html", {"instance": inst, "error": exc.detail}, status=422)
        return RedirectResponse(f"/runs/{run.id}", status_code=303)

    @app.post("/runs/{run_id}/pin", include_in_schema=False)
    def pin_form(request: Request, run_id: int, s: DB, person_id: Annotated[str, Form()],
                 date: Annotated[str, Form()], peak: Annotated[str, Form()], post: Annotated[str, Form()] = "",
                 route: Annotated[str, Form()] = "", pin: Annotated[str, Form()] = "1", csrf: CsrfField = ""):
        check_csrf(request, csrf)
        body = _form(PinRequest, {"person_id": person_id, "date": date, "peak": peak, "post": post or None,
                                  "route": route or None, "pin": pin == "1"})
        run = get_run(s, run_id)
        try:
            row = pinned_instance(s, run.instance, body)
        except HTTPException as exc:
            if exc.status_code != 422:
                raise
            return page(request, "instance.html", {"instance": run.instance, "error": exc.detail}, status=422)
        return RedirectResponse(f"/instances/{row.id}", status_code=303)

    @app.post("/runs/{run_id}/publish", include_in_schema=False)
    def publish_form(request: Request, run_id: int, s: DB, csrf: CsrfField = ""):
        check_csrf(request, csrf)
        publish(s, get_run(s, run_id))
        return RedirectResponse(f"/runs/{run_id}", status_code=303)

    return app


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("schoolpost")
    except PackageNotFoundError:  # pragma: no cover - a source tree without installing
        return "0"


__all__ = ["Settings", "check_upload", "create_app"]
