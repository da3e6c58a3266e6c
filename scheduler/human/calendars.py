"""``calendars/<person>.ics``: each person's duties of the week as an RFC 5545 calendar.

One file per person with at least one duty, made with the ``icalendar`` library. Each duty is one
event:

- ``SUMMARY``: "School post: North gate, Binzhou Experimental School (arrival)", or "Patrol route
  r1 (morning)";
- ``LOCATION``: the school's name and ``address`` (the instance's optional extension field); for a
  route, its first stop's; ``GEO``: the post's location, else the school's;
- ``DTSTART``/``DTEND``: the duty's local times. With the instance's ``timezone`` (extension, an
  IANA name) they carry that ``TZID`` and the file its ``VTIMEZONE``; without it they are floating
  local times (RFC 5545 section 3.3.5: the same clock time wherever the calendar is opened);
- ``UID``: built from the duty and the person, so a re-published roster updates the same events;
  ``DTSTAMP``: midnight UTC of ``week_start``, fixed so that the same roster gives the same bytes;
- ``DESCRIPTION``: role, post kind, the others on the same duty.

File names are the person's id made safe (:func:`scheduler.names.safe_name`): no path, no hidden or
Windows device name, and two ids that would give the same name (case aside) get a numbered suffix.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict

from icalendar import Calendar, Event, Timezone, vGeo

from models import Instance
from scheduler.names import safe_name


def _local(date: str, hhmm: str, tz: zoneinfo.ZoneInfo | None) -> dt.datetime:
    hour, minute = map(int, hhmm.split(":"))
    return dt.datetime.combine(dt.date.fromisoformat(date), dt.time(hour, minute), tzinfo=tz)


def person_calendars(inst: Instance, rows: list[dict]) -> dict[str, bytes]:
    """``{file name: .ics bytes}`` for every person with a duty (see the module docstring)."""
    tz = zoneinfo.ZoneInfo(inst.timezone) if inst.timezone else None
    schools = {s.id: s for s in inst.schools}
    posts = {p.id: (p, s) for s in inst.schools for p in s.posts}
    routes = {r.id: r for r in inst.routes}
    persons = {p.id: p for p in inst.persons}
    stamp = dt.datetime.combine(inst.week_start, dt.time(), tzinfo=dt.UTC)
    # one VTIMEZONE for every file, covering the week (computed once: per file it costs 14 ms)
    vtimezone = Timezone.from_tzid(inst.timezone, first_date=inst.week_start,
                                   last_date=inst.week_start + dt.timedelta(days=8)) if inst.timezone else None
    crews: dict[tuple, list[str]] = defaultdict(list)
    by_person: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        crews[(r["date"], r["peak"], r["post_id"], r["route_id"])].append(r["person_name"] or r["person_id"])
        by_person[r["person_id"]].append(r)
    used: set[str] = set()
    out: dict[str, bytes] = {}
    for pid in sorted(by_person):
        person = persons.get(pid)
        cal = Calendar()
        cal.add("prodid", "-//schoolpost//roster//EN")
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("x-wr-calname", f"School posts {inst.name}: {(person.name if person else None) or pid}")
        if vtimezone is not None:
            cal.add("x-wr-timezone", inst.timezone)
            cal.add_component(vtimezone)
        for r in sorted(by_person[pid], key=lambda r: (r["date"], r["start"], r["end"])):
            event = Event()
            others = [n for n in crews[(r["date"], r["peak"], r["post_id"], r["route_id"])]
                      if n != (r["person_name"] or r["person_id"])]
            if r["post_id"]:
                post, school = posts[r["post_id"]]
                summary = f"School post: {post.name or post.id}, {school.name or school.id} ({r['peak']})"
                place = post.location or school.location
                kind = post.kind.replace("_", " ")
            else:
                route = routes[r["route_id"]]
                school = schools.get(route.stops[0])
                summary = f"Patrol route {route.name or route.id} ({r['peak']})"
                place = school.location if school else None
                kind = "patrol route, stops: " + ", ".join(route.stops)
            event.add("uid", f"{r['date']}-{r['peak']}-{r['post_id'] or r['route_id']}-{pid}@schoolpost")
            event.add("dtstamp", stamp)
            event.add("dtstart", _local(r["date"], r["start"], tz))
            event.add("dtend", _local(r["date"], r["end"], tz))
            event.add("summary", summary)
            if school is not None:
                event.add("location", ", ".join(x for x in (school.name or school.id, school.address) if x))
            if place is not None:
                event.add("geo", vGeo((place.lat, place.lon)))
            description = [f"Role: {r['role'].replace('_', ' ')}", f"Where: {kind}"]
            if others:
                description.append("With: " + ", ".join(sorted(others)))
            event.add("description", "\n".join(description))
            event.add("transp", "OPAQUE")
            cal.add_component(event)
        out[safe_name(pid, used, suffix=".ics")] = cal.to_ical()
    return out
