"""The Dockerfile and deploy/compose.yaml, checked statically (no Docker engine on these machines).

What would otherwise fail only at `docker compose up`: an image or a service missing, a
setting spelled differently from the project's settings classes, a flag a command does not
have, a value the settings reject, a dependency on a health check that does not exist, a
corpus path the image does not have, a console script that does not exist, a runtime image
that runs as root or writes to its root filesystem.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.analyze.settings import AnalyzeSettings
from services.cli import COMMANDS, build_parser
from services.command import Command
from services.common.settings import (
    CommonSettings,
    SchemaSettings,
    TopicSettings,
    load_settings,
)
from services.emulator.__main__ import main as emulator_main
from services.emulator.recorded import DATA_PREFIX
from services.gateway.settings import GatewaySettings
from services.ingest.settings import IngestSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "deploy" / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

# Where the Dockerfile puts the repository's files that the compose file names (WORKDIR /app).
IMAGE_APP_DIR = "/app"

PROJECT_SERVICES = ("ingest", "analyze", "gateway")
# Each container of the project's image, and the settings classes whose fields are its
# environment variables (upper-cased field names).
SETTINGS_OF: dict[str, tuple[type[CommonSettings], ...]] = {
    "setup": (TopicSettings, SchemaSettings),
    "edgar-emulator": (),
    "ingest": (IngestSettings,),
    "analyze": (AnalyzeSettings,),
    "gateway": (GatewaySettings,),
}
# The API-key variables litellm reads for its providers: analyze is the only LLM caller.
PROVIDER_VARIABLES = frozenset(
    {
        "OPENAI_API_KEY",
        "OPENAI_ORGANIZATION",
        "ANTHROPIC_API_KEY",
        "AZURE_API_KEY",
        "AZURE_API_BASE",
        "AZURE_API_VERSION",
        "GEMINI_API_KEY",
        "MISTRAL_API_KEY",
        "GROQ_API_KEY",
        "COHERE_API_KEY",
        "OPENROUTER_API_KEY",
        "TOGETHERAI_API_KEY",
        "DEEPSEEK_API_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION_NAME",
    }
)
PROVIDER_VARIABLES_ALLOWED_IN = frozenset({"analyze"})

_INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}"
)


def _interpolate(value: str) -> str:
    """Compose's `${NAME:-default}` with nothing set in the environment: the default."""
    return _INTERPOLATION.sub(lambda m: m.group("default") or "", value).replace("$$", "$")


def _in_repository(value: str) -> str:
    """A path inside the image's /app is the same path inside the repository."""
    if value == IMAGE_APP_DIR or value.startswith(f"{IMAGE_APP_DIR}/"):
        return str(ROOT) + value.removeprefix(IMAGE_APP_DIR)
    return value


def _load_compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


COMPOSE = _load_compose()
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]


def _environment(service: str) -> dict[str, str]:
    env = SERVICES[service].get("environment") or {}
    assert isinstance(env, dict), f"{service}: environment must be a mapping"
    return {str(name): _interpolate(str(value)) for name, value in env.items()}


def _project_image() -> str:
    image = SERVICES["setup"]["image"]
    assert isinstance(image, str)
    return image


def _image_services() -> list[str]:
    return [name for name, svc in SERVICES.items() if svc.get("image") == _project_image()]


def _cli_invocations(service: str) -> list[list[str]]:
    """The `sec-digester ...` argument lists a service runs (after its ENTRYPOINT)."""
    svc = SERVICES[service]
    if svc.get("entrypoint") == ["sh", "-c"]:
        (script,) = svc["command"]
        invocations = [shlex.split(part) for part in script.split("&&")]
        assert all(words[0] == "sec-digester" for words in invocations), script
        return [words[1:] for words in invocations]
    assert "entrypoint" not in svc, f"{service}: runs the image's ENTRYPOINT (sec-digester)"
    return [list(svc["command"])]


# --- compose ------------------------------------------------------------------------------


def test_compose_has_the_pipeline() -> None:
    assert set(SERVICES) == {
        "kafka",
        "registry",
        "setup",
        "edgar-emulator",
        "ingest",
        "analyze",
        "gateway",
    }
    assert set(_image_services()) == set(SETTINGS_OF)


def test_infrastructure_images_are_kafka_4_and_apicurio_3() -> None:
    assert re.fullmatch(r"apache/kafka:4\.\d+\.\d+", SERVICES["kafka"]["image"])
    assert re.fullmatch(r"apicurio/apicurio-registry:3\.\d+\.\d+", SERVICES["registry"]["image"])


def test_kafka_is_one_combined_kraft_node_with_single_replica_internal_topics() -> None:
    env = _environment("kafka")
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["CLUSTER_ID"], "the image formats KRaft storage with CLUSTER_ID"
    for name in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR",
    ):
        assert env[name] == "1", name
    listeners = {
        item.split("://")[0]: item.split("://")[1] for item in env["KAFKA_LISTENERS"].split(",")
    }
    advertised = {
        item.split("://")[0]: item.split("://")[1]
        for item in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    }
    protocols = dict(
        item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    assert set(listeners) <= set(protocols)
    assert set(advertised) <= set(listeners) - {env["KAFKA_CONTROLLER_LISTENER_NAMES"]}
    # Whatever the containers bootstrap from is advertised back to them.
    in_network = {
        _environment(s)["KAFKA_BOOTSTRAP_SERVERS"]
        for s in SETTINGS_OF
        if "KAFKA_BOOTSTRAP_SERVERS" in _environment(s)
    }
    in_network.add(_environment("registry")["APICURIO_KAFKASQL_BOOTSTRAP_SERVERS"])
    assert in_network <= set(advertised.values())
    # The host listener is published on the port it advertises.
    host_listeners = [
        name for name, address in advertised.items() if address.startswith("localhost:")
    ]
    assert len(host_listeners) == 1
    host_port = advertised[host_listeners[0]].split(":")[1]
    container_port = listeners[host_listeners[0]].rsplit(":", 1)[1]
    assert f"{host_port}:{container_port}" in SERVICES["kafka"]["ports"]


def test_registry_uses_kafkasql_and_the_services_use_its_confluent_api() -> None:
    env = _environment("registry")
    assert env["APICURIO_STORAGE_KIND"] == "kafkasql"
    container_ports = {int(mapping.split(":")[-1]) for mapping in SERVICES["registry"]["ports"]}
    assert container_ports == {8080}, "Apicurio Registry listens on 8080 in its image"
    urls = {_environment(s)["SCHEMA_REGISTRY_URL"] for s in ("setup", *PROJECT_SERVICES)}
    assert urls == {"http://registry:8080/apis/ccompat/v7"}


@pytest.mark.parametrize("service", PROJECT_SERVICES)
def test_the_services_run_the_project_image_with_their_command(service: str) -> None:
    svc = SERVICES[service]
    assert "sec-digester" in svc["image"]
    assert svc["image"] == _project_image()
    build = svc["build"]
    assert (COMPOSE_FILE.parent / build["context"]).resolve() == ROOT
    assert ((COMPOSE_FILE.parent / build["context"]) / build["dockerfile"]).resolve() == DOCKERFILE
    assert "entrypoint" not in svc, "the image's ENTRYPOINT is sec-digester"
    assert svc["command"][0] == service


def test_gateway_port_is_published() -> None:
    port = _environment("gateway")["GATEWAY_PORT"]
    assert port == "8000"
    assert f"8000:{port}" in SERVICES["gateway"]["ports"]


@pytest.mark.parametrize("service", list(SETTINGS_OF))
def test_every_environment_variable_is_a_setting_of_the_service(service: str) -> None:
    known = {name.upper() for cls in SETTINGS_OF[service] for name in cls.model_fields}
    if service in PROVIDER_VARIABLES_ALLOWED_IN:
        known |= PROVIDER_VARIABLES
    unknown = set(_environment(service)) - known
    assert not unknown, f"{service}: not settings of {SETTINGS_OF[service]}: {sorted(unknown)}"


def test_environment_values_are_strings() -> None:
    """Compose reads `true`/`no`/numbers as YAML, not as the text the settings parse."""
    for name, svc in SERVICES.items():
        for key, value in (svc.get("environment") or {}).items():
            assert isinstance(value, str), f"{name}: {key}={value!r} should be quoted"


@pytest.mark.parametrize("service", ["setup", *PROJECT_SERVICES])
def test_commands_and_environment_pass_the_settings_validation(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each `sec-digester` command line, with the service's environment, starts: the flags
    exist and every value is accepted (paths inside the image are looked up in the repository,
    which the image copies them from)."""
    for argv in _cli_invocations(service):
        words = [_in_repository(word) for word in argv]
        args = build_parser(COMMANDS, words).parse_args(words)
        command: Command = args.handler
        for name in command.settings_class().model_fields:
            monkeypatch.delenv(name.upper(), raising=False)
        for name, value in _environment(service).items():
            monkeypatch.setenv(name, _in_repository(value))
        overrides = {
            key.removeprefix("setting:"): value
            for key, value in vars(args).items()
            if key.startswith("setting:")
        }
        load_settings(command.settings_class(), overrides)  # raises ConfigurationError otherwise


def test_ingest_replays_the_bundled_corpus_by_default() -> None:
    (argv,) = _cli_invocations("ingest")
    assert argv[argv.index("--source") + 1] == "replay"
    corpus = Path(_in_repository(argv[argv.index("--corpus") + 1]))
    assert corpus == ROOT / "samples" / "edgar-corpus"
    assert (corpus / "manifest.jsonl").is_file()


def test_setup_creates_topics_then_registers_schemas() -> None:
    assert _cli_invocations("setup") == [["topics", "create"], ["schemas", "register"]]
    assert SERVICES["setup"]["restart"] == "no"


def test_analyze_fetches_documents_from_the_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    svc = SERVICES["edgar-emulator"]
    assert svc["entrypoint"] == ["python", "-m", "services.emulator"]
    argv = svc["command"]
    with pytest.raises(SystemExit) as exited:
        emulator_main(["--help"])
    assert exited.value.code == 0
    flags = set(re.findall(r"--[a-z-]+", capsys.readouterr().out))
    assert {word for word in argv if word.startswith("--")} <= flags
    assert argv[argv.index("--host") + 1] == "0.0.0.0", "reachable from the other containers"
    corpus = Path(_in_repository(argv[argv.index("--corpus") + 1]))
    assert (corpus / "manifest.jsonl").is_file()
    port = int(argv[argv.index("--port") + 1])
    env = _environment("analyze")
    assert env["EDGAR_BASE_URL"] == f"http://edgar-emulator:{port}"
    assert env["EDGAR_DATA_URL"] == f"http://edgar-emulator:{port}{DATA_PREFIX}"


def test_start_order_waits_for_health_and_setup() -> None:
    def depends(service: str) -> dict[str, str]:
        return {name: spec["condition"] for name, spec in SERVICES[service]["depends_on"].items()}

    assert depends("registry") == {"kafka": "service_healthy"}
    assert depends("setup") == {"kafka": "service_healthy", "registry": "service_healthy"}
    for service in PROJECT_SERVICES:
        assert depends(service)["setup"] == "service_completed_successfully"
    assert depends("analyze")["edgar-emulator"] == "service_healthy"
    for name in SERVICES:
        waits_on = depends(name) if "depends_on" in SERVICES[name] else {}
        for target, condition in waits_on.items():
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[target], f"{name} waits on {target}'s health"


def test_long_running_services_restart_and_report_health() -> None:
    for name, svc in SERVICES.items():
        if name == "setup":
            continue
        assert svc["restart"] in {"unless-stopped", "on-failure", "always"}, name
        assert svc["healthcheck"]["test"], name
    ports = {
        "ingest": _environment("ingest")["INGEST_HEALTH_PORT"],
        "analyze": _environment("analyze")["ANALYZE_HEALTH_PORT"],
        "gateway": _environment("gateway")["GATEWAY_PORT"],
    }
    for service, port in ports.items():
        probe = " ".join(SERVICES[service]["healthcheck"]["test"])
        assert f"127.0.0.1:{port}/healthz" in probe, service


def test_project_containers_have_a_read_only_root_and_a_tmpfs_home() -> None:
    home = _dockerfile_final_stage().env["HOME"]
    for name in SETTINGS_OF:
        svc = SERVICES[name]
        assert svc["read_only"] is True, name
        assert home in svc["tmpfs"], name


# --- Dockerfile ---------------------------------------------------------------------------


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def _dockerfile_stages() -> list[Stage]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default
        elif keyword == "FROM":
            base, _, alias = re.sub(r"\s+AS\s+", " AS ", rest, flags=re.I).partition(" AS ")
            base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], base)
            stages.append(Stage(base.strip(), alias.strip() or None))
        else:
            assert stages, f"{keyword} before FROM"
            stages[-1].instructions.append((keyword, rest))
            if keyword == "ENV":
                for name, value in re.findall(r"(\w+)=(\S+)", rest):
                    stages[-1].env[name] = value
    return stages


def _dockerfile_final_stage() -> Stage:
    return _dockerfile_stages()[-1]


def _instructions(stage: Stage, keyword: str) -> list[str]:
    return [rest for key, rest in stage.instructions if key == keyword]


def test_dockerfile_is_multi_stage_on_python_3_11_slim() -> None:
    stages = _dockerfile_stages()
    assert len(stages) >= 2
    assert stages[-1].base == "python:3.11-slim"
    builders = {stage.name for stage in stages[:-1]}
    copies_from = {
        m.group(1)
        for rest in _instructions(stages[-1], "COPY")
        if (m := re.search(r"--from=(\S+)", rest))
    }
    assert copies_from
    assert copies_from <= builders


def test_runtime_stage_holds_only_the_venv_and_the_corpus() -> None:
    final = _dockerfile_final_stage()
    sources = []
    for rest in _instructions(final, "COPY"):
        words = [word for word in rest.split() if not word.startswith("--")]
        if "--from=" not in rest:
            sources.extend(words[:-1])
    assert sources == ["samples/edgar-corpus"]
    assert f"samples/edgar-corpus {IMAGE_APP_DIR}/samples/edgar-corpus" in _instructions(
        final, "COPY"
    )
    assert _instructions(final, "WORKDIR") == [IMAGE_APP_DIR]


def test_runtime_runs_as_a_fixed_non_root_user() -> None:
    users = _instructions(_dockerfile_final_stage(), "USER")
    assert users, "the final stage must set USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit(), "numeric, so Kubernetes' runAsNonRoot can check it"
    assert int(uid) >= 1000
    if gid:
        assert gid.isdigit()
        assert int(gid) != 0


def test_entrypoint_is_the_projects_console_script() -> None:
    (entrypoint,) = _instructions(_dockerfile_final_stage(), "ENTRYPOINT")
    assert json.loads(entrypoint) == ["sec-digester"]
    assert PYPROJECT["project"]["scripts"]["sec-digester"] == "services.cli:main"


def test_runtime_environment_and_ports() -> None:
    final = _dockerfile_final_stage()
    assert final.env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert final.env["PYTHONUNBUFFERED"] == "1"
    assert final.env["HOME"] == "/tmp"
    exposed = {int(port) for rest in _instructions(final, "EXPOSE") for port in rest.split()}
    defaults = {
        GatewaySettings.model_fields["gateway_port"].default,
        IngestSettings.model_fields["ingest_health_port"].default,
        AnalyzeSettings.model_fields["analyze_health_port"].default,
    }
    assert exposed == defaults == {8000, 8001, 8002}


def test_no_test_or_dev_extras_in_the_image() -> None:
    text = DOCKERFILE.read_text()
    for extra in PYPROJECT["project"]["optional-dependencies"]:
        assert f"[{extra}]" not in text, extra
        assert f"'.[{extra}" not in text, extra


def test_build_context_keeps_what_the_dockerfile_copies() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for required in (
        ".venv",
        ".git",
        "test-artifacts",
        "bench/results",
        "**/node_modules",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "**/__pycache__",
    ):
        assert required in patterns, required
    copied = [
        word
        for stage in _dockerfile_stages()
        for rest in _instructions(stage, "COPY")
        if "--from=" not in rest
        for word in rest.split()[:-1]
    ]
    assert copied
    for source in copied:
        assert (ROOT / source).exists(), source
        assert not any(fnmatch.fnmatch(source, pattern) for pattern in patterns), source


def test_the_wheel_ships_every_data_file_of_the_services() -> None:
    """The image installs the wheel, not the work tree: a file under services/ that the
    package data does not list (the dashboard's static files, say) is missing in the image."""
    setuptools = PYPROJECT["tool"]["setuptools"]
    packages: list[str] = setuptools["packages"]
    package_data: dict[str, list[str]] = setuptools.get("package-data", {})
    missing = []
    for path in sorted((ROOT / "services").rglob("*")):
        if not path.is_file() or path.suffix in {".py", ".pyc"} or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(ROOT)
        owner = max(
            (
                pkg
                for pkg in packages
                if relative.parts[: len(pkg.split("."))] == tuple(pkg.split("."))
            ),
            key=len,
        )
        inside = Path(*relative.parts[len(owner.split(".")) :]).as_posix()
        if not any(fnmatch.fnmatch(inside, glob) for glob in package_data.get(owner, [])):
            missing.append(f"{relative} (package {owner}, as {inside!r})")
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"


def test_every_package_of_services_is_listed_for_the_wheel() -> None:
    # setuptools ships only the packages pyproject.toml lists: one left out imports fine from
    # a checkout and is missing from the image.
    root = Path(__file__).resolve().parents[2]
    listed = set(
        tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(root).parts)
        for init in (root / "services").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found <= listed
