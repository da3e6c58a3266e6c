"""The instance generator and the shipped instances: seeded, valid, realistic sizes, reproducible."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from models import instance_from_data, load_instance
from scheduler.commands.generate import generate_command
from scheduler.generate import (
    PARAMS,
    count_duties,
    dump_instance,
    eligible_pairs_estimate,
    generate,
    summarize,
)

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"
PAIR_BOUND = 400_000


@pytest.fixture(scope="module")
def city() -> tuple[dict, float]:
    t0 = time.perf_counter()
    doc = generate("city", 0)
    return doc, time.perf_counter() - t0


@pytest.fixture(scope="module")
def district() -> dict:
    return generate("district", 0)


def test_same_seed_same_document():
    """The same seed and options give an equal document."""
    assert generate("district", 7, schools=20) == generate("district", 7, schools=20)


def test_same_seed_same_file_bytes(tmp_path):
    """Two runs of the command with the same seed write byte-identical YAML and JSON files."""
    runner = CliRunner()
    for suffix in (".yaml", ".json"):
        paths = [tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"]
        for path in paths:
            result = runner.invoke(generate_command, ["--preset", "district", "--seed", "3", "--schools", "15",
                                                      "-o", str(path)])
            assert result.exit_code == 0, result.output
        assert paths[0].read_bytes() == paths[1].read_bytes()


def test_same_bytes_in_another_process():
    """A fresh interpreter with another hash seed renders the same text (no set-order leaks)."""
    code = ("import sys; from scheduler.generate import generate, dump_instance; "
            "sys.stdout.write(dump_instance(generate('district', 5, schools=25)))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    assert out.stdout == dump_instance(generate("district", 5, schools=25))


def test_different_seed_different_document():
    """Another seed gives another document."""
    assert generate("district", 1, schools=20) != generate("district", 2, schools=20)


@pytest.mark.parametrize("preset", ["school", "district"])
def test_preset_validates(preset):
    """The school and district presets validate with models.instance_from_data."""
    inst = instance_from_data(generate(preset, 0))
    assert inst.schools and inst.persons


def test_city_validates(city):
    """The city preset validates (its generation time is measured in benchmarks/, not here)."""
    doc, _ = city
    instance_from_data(doc)


def test_city_sizes(city):
    """The city has Binzhou's 1,056 schools over its districts and zones, and 15,000-30,000 persons."""
    doc, _ = city
    assert len(doc["schools"]) == PARAMS.city_schools == 1056
    assert 15_000 <= len(doc["persons"]) <= 30_000
    districts = {s["district"] for s in doc["schools"]}
    assert {"bincheng", "zhanhua", "huimin", "yangxin", "wudi", "boxing", "zouping"} <= districts


def test_district_sizes(district):
    """The district has ~150 schools, 1,500-4,000 persons, urban and rural sites and the expected type mix."""
    s = summarize(district)
    assert s["schools"] == 150
    assert 1_500 <= s["persons"] <= 4_000
    assert s["routes"] >= 4
    types = [x["type"] for x in district["schools"]]
    assert 0.40 <= types.count("kindergarten") / len(types) <= 0.50
    assert 0.31 <= types.count("primary") / len(types) <= 0.41
    stations = [u for u in district["units"] if u["kind"] == "police" and not u["id"].endswith("-spb")]
    assert any("urban" in u["name"] for u in stations) and any("urban" not in u["name"] for u in stations)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_district_solver_size_bound(seed):
    """A ~150-school district gives 3,000-4,000 post duties and at most 400,000 eligible pairs."""
    doc = generate("district", seed)
    duties = count_duties(doc)
    assert 3_000 <= duties["post_duties"] <= 4_000
    assert eligible_pairs_estimate(doc) <= PAIR_BOUND


def test_school_preset_and_override():
    """The school preset is one large primary or nine-year school; --schools overrides the count."""
    doc = generate("school", 0)
    assert len(doc["schools"]) == 1
    only = doc["schools"][0]
    assert only["type"] in ("primary", "nine_year") and only["students"] >= 1000
    assert {u["kind"] for u in doc["units"]} == {"police", "community"}
    assert len(generate("district", 0, schools=10)["schools"]) == 10
    assert len(generate("school", 0, schools=3)["schools"]) == 3


def test_pair_estimate_bounds_the_model():
    """The estimate is an upper bound of scheduler.duties' eligible pairs and exact once leave is removed."""
    from scheduler.duties import expand

    doc = generate("district", 4, schools=12)
    assert eligible_pairs_estimate(doc) >= expand(instance_from_data(doc)).pairs
    no_leave = copy.deepcopy(doc)
    for person in no_leave["persons"]:
        person.pop("leave", None)
    assert eligible_pairs_estimate(no_leave) == expand(instance_from_data(no_leave)).pairs


def test_yaml_quotes_times_and_round_trips(tmp_path):
    """Written YAML quotes every HH:MM time and reads back into the same document."""
    doc = generate("district", 0, schools=8)
    path = tmp_path / "d.yaml"
    result = CliRunner().invoke(generate_command, ["--preset", "district", "--schools", "8", "-o", str(path)])
    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert '"07:' in text and not re.search(r"(?<![\"\d])\d\d:\d\d(?![\"\d])", text)
    back = load_instance(path)
    assert back == instance_from_data(doc)


def test_command_prints_sizes_and_leaves_no_temp_file(tmp_path):
    """The command prints schools, posts, persons, routes, duties and pairs and writes atomically."""
    out = tmp_path / "sub" / "x.json"
    result = CliRunner().invoke(generate_command, ["--preset", "school", "--seed", "2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    for word in ("schools", "posts", "persons", "routes", "duties", "eligible pairs"):
        assert word in result.output
    assert json.loads(out.read_text())["format"] == "schoolpost/1"
    assert [p.name for p in out.parent.iterdir()] == ["x.json"]


def test_bad_arguments():
    """An unknown preset or a bad week start is refused."""
    with pytest.raises(ValueError):
        generate("province", 0)
    result = CliRunner().invoke(generate_command, ["--week-start", "monday", "-o", "x.yaml"])
    assert result.exit_code == 2


def test_parameters_are_frozen():
    """All generator numbers sit in one frozen dataclass."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        PARAMS.city_schools = 1  # type: ignore[misc]


SCENARIO_FILES = {"whatif-district.yaml": "district-bincheng.yaml", "whatif-city.yaml": None}  # None: generated city


@pytest.mark.parametrize("path", sorted(p.name for p in INSTANCES.iterdir()
                                        if p.suffix in (".yaml", ".yml", ".json") and p.name not in SCENARIO_FILES))
def test_shipped_instance_loads(path):
    """Every file in instances/ loads with models.load_instance and is listed in instances/README.md."""
    inst = load_instance(INSTANCES / path)
    assert inst.schools and inst.persons
    assert f"`{path}`" in (INSTANCES / "README.md").read_text()


def test_shipped_district_is_small():
    """The shipped generated district stays under 1.5 MB."""
    (path,) = INSTANCES.glob("district-bincheng.*")
    assert path.stat().st_size < 1.5 * 2**20


def test_shipped_district_matches_documented_command(tmp_path):
    """instances/district-bincheng.* is exactly what the command in instances/README.md regenerates."""
    readme = (INSTANCES / "README.md").read_text()
    (line,) = [ln for ln in readme.splitlines() if ln.startswith("schoolpost generate") and "district-bincheng" in ln]
    args = shlex.split(line)[2:]
    target = args[args.index("-o") + 1]
    out = tmp_path / Path(target).name
    args[args.index("-o") + 1] = str(out)
    result = CliRunner().invoke(generate_command, args)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == (ROOT / target).read_bytes()


@pytest.mark.parametrize("path", sorted(SCENARIO_FILES))
def test_shipped_scenarios_apply_to_their_instance(path):
    """Each shipped scenario file reads, is listed in instances/README.md, and every variant of its
    instance is a valid instance."""
    from models import instance_from_data, load_document
    from scheduler.generate import generate
    from scheduler.scenarios import apply_operations, load_scenarios

    spec = load_scenarios(INSTANCES / path)
    base = SCENARIO_FILES[path]
    data = load_document(INSTANCES / base) if base else generate("city", 0)
    assert f"`{path}`" in (INSTANCES / "README.md").read_text()
    assert [s.name for s in spec.scenarios] == ["rain-monday", "event-wednesday", "new-school"]
    for i, sc in enumerate(spec.scenarios):
        inst = instance_from_data(apply_operations(data, sc, i))
        assert inst.schools and inst.persons
