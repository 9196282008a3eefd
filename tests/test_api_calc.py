"""The calculator over HTTP gives exactly what `arrs calc ... --json` and `arrs rates --json` print."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from api_support import LiveServer, live_server
from conftest import TEST_TODAY
from typer.testing import CliRunner

from assistant.cli import app as cli
from assistant.roles import RoleCatalogue
from assistant.settings import BUNDLED_CORPUS, Settings
from server import create_app

pytestmark = pytest.mark.integration

# (CLI arguments after `arrs calc`, the same inputs as an API body)
CASES = [
    pytest.param(
        ["claim", "--role", "pharmacy technician", "--from", "2025-04-01", "--to", "2025-09-30", "--wte", "0.6"],
        {"operation": "claim", "role": "pharmacy technician", "start": "2025-04-01", "end": "2025-09-30", "wte": 0.6},
        id="claim-wte",
    ),
    pytest.param(
        ["claim", "--role", "CP", "--from", "2024-11-15", "--to", "2025-05-10", "--hours", "30",
         "--area", "inner_london", "--actual-monthly-cost", "4100"],
        {"operation": "claim", "role": "CP", "start": "2024-11-15", "end": "2025-05-10", "hours_per_week": "30",
         "area": "inner_london", "actual_monthly_cost": 4100},
        id="claim-hours-across-years",
    ),
    pytest.param(
        ["sum", "--population", "52000", "--year", "2025/26"],
        {"operation": "sum", "population": 52000, "year": "2025/26"},
        id="sum",
    ),
    pytest.param(
        ["afford", "--budget", "100000", "--role", "clinical pharmacist", "--year", "2025/26"],
        {"operation": "afford", "budget": "100000", "role": "clinical pharmacist", "year": "2025/26"},
        id="afford",
    ),
    pytest.param(
        ["cost", "--salary", "40000", "--on", "2025-06-01", "--levy"],
        {"operation": "cost", "salary": 40000, "on": "2025-06-01", "levy": True},
        id="cost",
    ),
    pytest.param(
        ["max", "--role", "first contact physiotherapist", "--on", "2025-06-01", "--area", "outer_london"],
        {"operation": "max", "role": "first contact physiotherapist", "on": "2025-06-01", "area": "outer_london"},
        id="max",
    ),
    pytest.param(
        ["headroom", "--population", "60000", "--year", "2025/26", "--post", "pharmacy technician:0.6:2:inner_london",
         "--post", "clinical pharmacist"],
        {"operation": "headroom", "population": 60000, "year": "2025/26",
         "posts": [{"role": "pharmacy technician", "wte": 0.6, "count": 2, "area": "inner_london"},
                   {"role": "clinical pharmacist"}]},
        id="headroom",
    ),
]  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """No index needed: the calculator reads only the cited rate tables."""
    data = tmp_path_factory.mktemp("calc") / "data"
    settings = Settings(
        data_dir=data, corpus_dir=BUNDLED_CORPUS, today=TEST_TODAY, rate_limit="10000/minute", _env_file=None
    )
    with live_server(create_app(settings)) as running:
        yield running


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def run_cli(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("cli_args", "body"), CASES)
def test_calculate_matches_the_cli_json(client: httpx.Client, cli_args: list[str], body: dict) -> None:
    code, out, err = run_cli(["calc", *cli_args, "--json"])
    assert code == 0, err
    response = client.post("/api/calculate", json=body)
    assert response.status_code == 200, response.text
    assert response.json() == json.loads(out)
    assert response.json()["sources"], "every figure carries its sources"


def test_calculator_refusals_match_the_cli_message(client: httpx.Client) -> None:
    code, _, err = run_cli(["calc", "max", "--role", "astronaut", "--on", "2025-06-01", "--json"])
    assert code == 1
    response = client.post(
        "/api/calculate", json={"operation": "max", "role": "astronaut", "on": "2025-06-01"}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "cannot_calculate"
    assert f"Error: {response.json()['message']}" == " ".join(err.split())

    not_held = client.post("/api/calculate", json={"operation": "sum", "population": 1000, "year": "2031/32"})
    assert not_held.status_code == 422 and "never estimated" in not_held.json()["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"operation": "claim", "role": "CP", "start": "2025-04-01", "end": "2025-05-01", "wte": "lots"},
            "wte",
        ),
        ({"operation": "claim", "role": "CP", "start": "01/04/2025", "end": "2025-05-01", "wte": 1}, "start"),
        ({"operation": "max", "role": "CP", "on": "2025-06-01", "area": "mars"}, "area"),
        ({"operation": "sum", "population": 5000}, "year"),
        ({"operation": "teleport"}, "body"),
        ({"role": "CP"}, "body"),
    ],
)
def test_calculate_validation_names_the_field(client: httpx.Client, body: dict, field: str) -> None:
    response = client.post("/api/calculate", json=body)
    assert response.status_code == 422, response.text
    assert field in [problem["field"] for problem in response.json()["details"]]


@pytest.mark.parametrize(
    "filters", [{}, {"role": "pharmacy technician"}, {"year": "2024/25"}, {"role": "FCP", "year": "2025-26"}]
)
def test_rates_match_the_cli(client: httpx.Client, filters: dict) -> None:
    args = ["rates", "--json"]
    for key, value in filters.items():
        args += [f"--{key}", value]
    code, out, err = run_cli(args)
    assert code == 0, err
    response = client.get("/api/rates", params=filters)
    assert response.status_code == 200
    rows = response.json()
    assert rows == json.loads(out) and rows
    assert all(row["source_url"].startswith("https://") and row["status"] for row in rows)


def test_rates_refuse_unknown_filters(client: httpx.Client) -> None:
    assert client.get("/api/rates", params={"role": "astronaut"}).status_code == 422
    assert client.get("/api/rates", params={"year": "not a year"}).status_code == 422
    assert client.get("/api/rates", params={"year": "2031/32"}).status_code == 422


def test_roles_are_the_catalogue(client: httpx.Client) -> None:
    catalogue = RoleCatalogue.load(BUNDLED_CORPUS / "roles.yaml")
    roles = client.get("/api/roles").json()
    assert [role["id"] for role in roles] == catalogue.ids()
    by_id = {role["id"]: role for role in roles}
    for role in catalogue.all():
        assert by_id[role.id]["name"] == role.name
        assert by_id[role.id]["wte_basis"] == role.wte_basis


def test_calculator_works_without_the_index(client: httpx.Client) -> None:
    assert client.get("/readyz").status_code == 503  # no index in this app's data directory
    assert client.post(
        "/api/calculate", json={"operation": "sum", "population": 1, "year": "2025/26"}
    ).is_success
