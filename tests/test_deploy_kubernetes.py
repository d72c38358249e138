"""deploy/kubernetes: valid objects for the Kubernetes API (kubernetes-validate's bundled
schemas, offline), commands the CLI accepts, probes the app serves, settings that exist."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from bot.slack.http_endpoint import health_routes
from tests.conftest import run_cli
from tests.test_deploy_files import settings_env_names

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "kubernetes"
KUBERNETES = "1.30.0"  # the oldest minor version still supported upstream when this was written


def objects() -> list[tuple[str, dict]]:
    return [
        (path.name, doc)
        for path in sorted(DEPLOY.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc and doc.get("kind") != "Kustomization"
    ]


def containers(doc: dict) -> list[dict]:
    spec = doc.get("spec", {})
    pod = (spec.get("jobTemplate", {}).get("spec", spec)).get("template", {}).get("spec", {})
    return pod.get("containers", [])


@pytest.mark.parametrize(("name", "doc"), objects(), ids=lambda v: v if isinstance(v, str) else v["kind"])
def test_each_object_is_valid_for_the_api(name: str, doc: dict) -> None:
    kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_kustomization_lists_every_file_but_the_secret_example() -> None:
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text(encoding="utf-8"))
    files = {p.name for p in DEPLOY.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert set(kustomization["resources"]) == files


def test_commands_probes_resources_and_settings_are_real() -> None:
    kinds = {doc["kind"] for _, doc in objects()}
    assert {"Deployment", "Service", "Job", "CronJob", "ConfigMap", "Secret"} <= kinds
    commands = []
    served = {route.path for route in health_routes(None)}
    for _, doc in objects():
        for container in containers(doc):
            command = container["command"]
            assert command[0] == "mlready"
            commands.append(command[1:])
            help_run = run_cli(*command[1:], "--help")
            assert help_run.returncode == 0, (command, help_run.stderr)
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                if probe in container:
                    assert container[probe]["httpGet"]["path"] in served
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert "memory" in container["resources"]["requests"]
    assert ["remind", "--once"] in commands and ["db", "upgrade"] in commands
    bot = next(doc for _, doc in objects() if doc["kind"] == "Deployment")
    (container,) = containers(bot)
    assert {"startupProbe", "livenessProbe", "readinessProbe"} <= set(container)
    # above the measured peak of an answering process (about 270 MB, bench/RESULTS.md)
    assert int(container["resources"]["requests"]["memory"].removesuffix("Mi")) >= 300

    known = set(settings_env_names()) | {"HF_HUB_OFFLINE"}
    config = next(doc for _, doc in objects() if doc["kind"] == "ConfigMap")
    secret = next(doc for _, doc in objects() if doc["kind"] == "Secret")
    assert set(config["data"]) <= known and set(secret["stringData"]) <= known
    # the reminders run as a CronJob, so the replicas must not send them as well
    assert config["data"]["MLREADY_REMINDER_INTERVAL_SECONDS"] == "0"
