"""The deployment files (Dockerfile, docker-compose.yml, .env.example) agree with each other,
with the settings model and with the settings table in docs/operations.md. Static checks
only: no Docker engine needed."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pydantic import AliasChoices

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; `$${` is an escaped `$`
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])[^}]*)?\}")
ASSIGNMENT = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


# --- helpers -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def strings(node: object) -> Iterator[str]:
    """Every string in a parsed YAML tree, keys included (what Compose interpolates)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def command_text(command: str | list[str]) -> str:
    return command if isinstance(command, str) else " ".join(command)


def healthcheck_text(service: dict) -> str:
    check = service.get("healthcheck") or {}
    assert not check.get("disable"), "the health check is disabled"
    return command_text(check.get("test") or "")


def settings_env_names() -> list[str]:
    """The environment variable of each Settings field: its alias, else prefix + NAME."""
    prefix = Settings.model_config.get("env_prefix", "")
    names = []
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias or field.alias
        if isinstance(alias, AliasChoices):
            alias = next((c for c in alias.choices if isinstance(c, str)), None)
        names.append(alias if isinstance(alias, str) else f"{prefix}{name}".upper())
    return names


def env_example() -> list[tuple[str, bool, str, str]]:
    """(name, active, value, the comment line above it) for each `NAME=` or `# NAME=` line."""
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    entries = []
    for i, line in enumerate(lines):
        match = ASSIGNMENT.match(line.strip())
        if match:
            above = lines[i - 1].strip() if i else ""
            entries.append((match.group(2), match.group(1) is None, match.group(3), above))
    return entries


def documented_settings_names() -> set[str]:
    """Variable names in the first column of the table under `## Settings` in docs/operations.md."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = re.search(r"^## Settings\n(.*?)(?=^#{1,3} )", text, re.S | re.M)
    assert section, "docs/operations.md has no '## Settings' section"
    names: set[str] = set()
    for row in section.group(1).splitlines():
        if row.startswith("|"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1]))
    return names


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        keyword, _, rest = full.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def env_pairs(instructions: list[tuple[str, str]]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for keyword, rest in instructions:
        if keyword == "ENV":
            for word in shlex.split(rest):
                key, sep, value = word.partition("=")
                assert sep, f"use ENV KEY=value, not the legacy form: {rest}"
                pairs[key] = value
    return pairs


def exec_form(rest: str) -> str:
    """The command of CMD/HEALTHCHECK CMD in JSON (exec) form, as one string."""
    return " ".join(json.loads(rest))


# --- docker-compose.yml --------------------------------------------------------------------


def test_compose_names_the_three_services(services: dict) -> None:
    assert {"postgres", "migrate", "bot"} <= set(services)


def test_postgres_has_a_pg_isready_healthcheck_and_a_named_volume(compose: dict, services: dict) -> None:
    postgres = services["postgres"]
    assert postgres["image"].split(":")[0] == "postgres"
    assert "pg_isready" in healthcheck_text(postgres)
    named = set(compose.get("volumes") or {})
    mounts = [v if isinstance(v, str) else f"{v['source']}:{v['target']}" for v in postgres["volumes"]]
    data = [m for m in mounts if m.split(":")[1] == "/var/lib/postgresql/data"]
    assert data and data[0].split(":")[0] in named, "PostgreSQL's data directory needs a named volume"


def test_migrate_is_one_shot_and_upgrades_the_schema(services: dict) -> None:
    migrate = services["migrate"]
    assert "mlready db upgrade" in command_text(migrate["command"])
    assert migrate.get("restart", "no") == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_bot_serves_http_with_a_healthz_healthcheck(services: dict) -> None:
    bot = services["bot"]
    command = command_text(bot["command"])
    assert "mlready serve --http" in command
    port = re.search(r"--port (\d+)", command)
    assert port, "bot should name its port"
    check = healthcheck_text(bot)
    assert f":{port.group(1)}/healthz" in check


def test_bot_waits_for_postgres_and_migrate(services: dict) -> None:
    depends = services["bot"]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_bot_and_migrate_read_env_file_and_share_database_and_image(services: dict) -> None:
    for name in ("bot", "migrate"):
        service = services[name]
        env_files = service["env_file"]
        assert ".env" in ([env_files] if isinstance(env_files, str) else env_files)
        url = service["environment"]["MLREADY_DATABASE_URL"]
        assert url.startswith("postgresql://") and "@postgres:5432/" in url
    assert services["bot"]["environment"] == services["migrate"]["environment"]
    assert services["bot"]["image"] == services["migrate"]["image"]
    # the running image has no torch, so nothing at run time may build an index
    assert "mlready index" not in command_text(services["migrate"]["command"])


def test_bot_can_be_scaled_without_host_port_clashes(services: dict) -> None:
    """`--scale bot=3` fails if every replica wants the same fixed host port."""
    for port in services["bot"].get("ports", []):
        if isinstance(port, dict):
            assert "published" not in port, f"fixed host port {port['published']}"
        else:
            parts = str(port).split(":")
            assert len(parts) == 1 or parts[-2] == "", f"fixed host port in {port}"


def test_every_interpolated_variable_is_in_env_example(compose: dict) -> None:
    used = {m.group(1) for s in strings(compose) for m in INTERPOLATION.finditer(s)}
    assert used, "expected docker-compose.yml to read settings such as POSTGRES_PASSWORD"
    documented = {name for name, *_ in env_example()}
    assert not used - documented, f"missing from .env.example: {sorted(used - documented)}"


def test_variables_compose_requires_are_set_in_env_example(compose: dict) -> None:
    """A variable without a default (`${X}` or `${X:?msg}`) must have an active line, so that
    `cp .env.example .env` gives a file Compose accepts."""
    required = {
        m.group(1)
        for s in strings(compose)
        for m in INTERPOLATION.finditer(s)
        if m.group(2) is None or "?" in m.group(2)
    }
    active = {name for name, is_active, *_ in env_example() if is_active}
    assert not required - active, f"set these in .env.example: {sorted(required - active)}"


# --- .env.example --------------------------------------------------------------------------


def test_env_example_has_every_setting() -> None:
    names = settings_env_names()
    assert "SLACK_BOT_TOKEN" in names and "MLREADY_DATABASE_URL" in names
    documented = {name for name, *_ in env_example()}
    missing = [n for n in names if n not in documented]
    assert not missing, f"missing from .env.example: {missing}"


def test_env_example_explains_each_variable_once() -> None:
    entries = env_example()
    names = [name for name, *_ in entries]
    assert len(names) == len(set(names)), "a variable appears twice"
    for name, _active, _value, above in entries:
        assert above.startswith("#") and not ASSIGNMENT.match(above), f"{name} has no comment line above it"
        assert len(above.lstrip("# ").split()) >= 3, f"the comment above {name} says too little"


@pytest.mark.parametrize("uncomment", [False, True], ids=["as-shipped", "all-uncommented"])
def test_env_example_values_are_valid_settings(
    uncomment: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in settings_env_names():
        monkeypatch.delenv(name, raising=False)
    lines = []
    for name, active, value, _above in env_example():
        if active or uncomment:
            lines.append(f"{name}={value}")
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = Settings(_env_file=env_file)
    values = dict(line.split("=", 1) for line in lines)
    assert settings.log_format == values["MLREADY_LOG_FORMAT"]
    token = settings.slack_bot_token
    assert token and token.get_secret_value() == values["SLACK_BOT_TOKEN"]
    if uncomment:
        assert settings.reminder_grace_days == float(values["MLREADY_REMINDER_GRACE_DAYS"])


def test_env_example_holds_placeholders_not_secrets() -> None:
    values = {name: value for name, _active, value, _above in env_example()}
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_CLIENT_SECRET"):
        assert "replace" in values[name], f"{name} should be an obvious placeholder"
    assert not re.search(r"xox[abpe]-\d", (ROOT / ".env.example").read_text(encoding="utf-8"))


# --- docs --------------------------------------------------------------------------------


def test_the_settings_table_lists_every_setting() -> None:
    table = documented_settings_names()
    missing = [n for n in settings_env_names() if n not in table]
    assert not missing, f"missing from the settings table in docs/operations.md: {missing}"


# --- Dockerfile ----------------------------------------------------------------------------


def stages() -> dict[str, list[tuple[str, str]]]:
    """The Dockerfile's instructions per stage, by stage name."""
    out: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for keyword, rest in dockerfile():
        if keyword == "FROM":
            current = []
            out[rest.split()[-1] if " AS " in rest.upper() else rest] = current
        current.append((keyword, rest))
    return out


def test_dockerfile_builds_with_cpu_torch_and_runs_without_it() -> None:
    build, runtime = stages()["build"], stages()["runtime"]
    assert build[0][1].startswith("python:3.11-slim") and runtime[0][1].startswith("python:3.11-slim")
    assert any(
        k == "ARG" and r.startswith("TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu") for k, r in build
    )
    pip_runs = [rest for keyword, rest in build if keyword == "RUN" and "pip install" in rest]
    assert "torch" in pip_runs[0] and "TORCH_INDEX_URL" in pip_runs[0], "torch first, from the CPU index"
    assert any("[index]" in r and re.search(r"\bmlready index\b", r) for r in pip_runs)
    runtime_text = " ".join(rest for _, rest in runtime)
    assert "torch" not in runtime_text.replace("find_spec('torch') is None", "")
    assert "[index]" not in runtime_text


def test_dockerfile_runs_as_non_root_with_the_built_index() -> None:
    runtime = stages()["runtime"]
    users = [(i, rest) for i, (keyword, rest) in enumerate(runtime) if keyword == "USER"]
    assert users, "no USER instruction: the container would run as root"
    last_user_at, user = users[-1]
    assert user.split(":")[0] not in ("root", "0")
    copies = [
        (i, rest) for i, (keyword, rest) in enumerate(runtime) if keyword == "COPY" and "--from=build" in rest
    ]
    assert copies and copies[0][1].endswith("/app/index"), "the index comes from the build stage"
    assert "--chown=10001:10001" in copies[0][1] and copies[0][0] > last_user_at


def test_dockerfile_environment_is_offline_with_index_inside_the_image(compose: dict) -> None:
    env = env_pairs(stages()["runtime"])
    assert env.get("HF_HUB_OFFLINE") == "1"
    index_dir = env.get("MLREADY_INDEX_DIR", "")
    assert index_dir.startswith("/"), "MLREADY_INDEX_DIR should point into the image"
    bot = compose["services"]["bot"]
    assert bot["environment"]["MLREADY_INDEX_DIR"] == index_dir
    assert not any(str(v).endswith(f":{index_dir}") for v in bot.get("volumes", [])), (
        "a volume over the index would hide the image's index and query encoder"
    )


def test_dockerfile_healthcheck_and_command() -> None:
    instructions = dockerfile()
    checks = [rest for keyword, rest in instructions if keyword == "HEALTHCHECK"]
    assert checks and "/healthz" in checks[-1] and "NONE" not in checks[-1].split()
    command = exec_form(next(rest for keyword, rest in reversed(instructions) if keyword == "CMD"))
    assert "mlready serve --http" in command
    port = re.search(r"--port (\d+)", command)
    assert port and f":{port.group(1)}/healthz" in checks[-1]
    assert any(keyword == "EXPOSE" and port.group(1) in rest.split() for keyword, rest in instructions)


def test_dockerignore_keeps_secrets_and_the_venv_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored and ".venv" in ignored and ".git" in ignored


def test_the_socket_mode_compose_variant(services: dict) -> None:
    override = yaml.safe_load((ROOT / "docker-compose.socket.yml").read_text(encoding="utf-8"))
    bot = override["services"]["bot"]
    assert set(override["services"]) <= set(services)  # an override of the main file
    assert bot["command"] == ["mlready", "serve"]  # Socket Mode: no --http
    port = bot["environment"]["MLREADY_HEALTH_PORT"]
    assert f"127.0.0.1:{port}/readyz" in healthcheck_text(bot)
    names = [name for name, *_ in env_example()]
    assert "SLACK_APP_TOKEN" in names and "MLREADY_HEALTH_PORT" in names


def test_the_runtime_image_installs_exactly_the_lock() -> None:
    """requirements/runtime.lock pins, with hashes, every dependency of the answer-only install
    at a version pyproject.toml allows; the runtime stage installs it with --require-hashes."""
    import tomllib

    from packaging.requirements import Requirement

    text = (ROOT / "requirements" / "runtime.lock").read_text(encoding="utf-8")
    pins = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+) \\$", text, re.MULTILINE))
    entries = re.split(r"\n(?=[a-z0-9])", text.split("\n\n", 1)[-1] if "\n\n" in text else text)
    assert all("--hash=sha256:" in e for e in entries if re.match(r"[a-z0-9]", e))
    assert "file://" not in text and "--find-links" not in text and "--index-url" not in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for raw in project["dependencies"]:
        requirement = Requirement(raw)
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert name in pins, f"{name} is not in the lock; regenerate it (see the Dockerfile)"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name])
    assert "torch" not in pins and "sentence-transformers" not in pins
    runtime = " ".join(rest for keyword, rest in stages()["runtime"] if keyword in ("COPY", "RUN"))
    assert "requirements/runtime.lock" in runtime and "--require-hashes" in runtime
