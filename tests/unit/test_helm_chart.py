"""The Helm chart (deploy/helm/sec-digester): lint, render, validate, and what it promises.

Helm is built from source by scripts/install-helm.sh into ~/.cache/sec-digester/bin (or
$HELM_BIN_DIR); without it these tests fail, they are never skipped. Every rendered manifest,
with the default values and with deploy/helm/values-production.yaml, is validated offline
against the Kubernetes OpenAPI schemas shipped by the kubernetes-validate package, in strict
mode (an unknown or misspelled field is an error).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from services.analyze.settings import AnalyzeSettings
from services.common.settings import CommonSettings, SchemaSettings, TopicSettings
from services.gateway.settings import GatewaySettings
from services.ingest.settings import IngestSettings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "sec-digester"
PRODUCTION = ROOT / "deploy" / "helm" / "values-production.yaml"
KUBERNETES_VERSION = "1.30.0"
RELEASE = "sec-digester"

Manifest = dict[str, Any]
POD_KINDS = {"Deployment", "StatefulSet", "Job", "Pod"}
# Settings whose values are secrets: referenced from Secrets, never in the ConfigMap or inline.
SECRET_SETTINGS = {"KAFKA_SASL_PASSWORD", "SCHEMA_REGISTRY_BASIC_AUTH", "GATEWAY_API_KEYS"}
# Process environment the chart sets that is not a sec-digester setting.
NOT_SETTINGS = {"HOME", "PYTHONDONTWRITEBYTECODE"}


def _run(helm: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(helm), *args], capture_output=True, text=True, timeout=60, check=False
    )


def _render(helm: Path, *args: str) -> list[Manifest]:
    result = _run(
        helm,
        "template",
        RELEASE,
        str(CHART),
        "--namespace",
        "sec",
        "--kube-version",
        KUBERNETES_VERSION,
        *args,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def default_manifests(helm: Path) -> list[Manifest]:
    return _render(helm)


@pytest.fixture(scope="module")
def production_manifests(helm: Path) -> list[Manifest]:
    return _render(helm, "--values", str(PRODUCTION))


@pytest.fixture(params=["default", "production"])
def manifests(
    request: pytest.FixtureRequest,
    default_manifests: list[Manifest],
    production_manifests: list[Manifest],
) -> list[Manifest]:
    return default_manifests if request.param == "default" else production_manifests


def _one(manifests: list[Manifest], kind: str, name_suffix: str) -> Manifest:
    found = [
        m
        for m in manifests
        if m["kind"] == kind and m["metadata"]["name"] == f"{RELEASE}{name_suffix}"
    ]
    assert len(found) == 1, f"expected one {kind} {RELEASE}{name_suffix}, found {len(found)}"
    return found[0]


def _pod_spec(manifest: Manifest) -> dict[str, Any]:
    if manifest["kind"] == "Pod":
        return dict(manifest["spec"])
    return dict(manifest["spec"]["template"]["spec"])


def _containers(pod_spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from pod_spec.get("initContainers", [])
    yield from pod_spec["containers"]


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def _config(manifests: list[Manifest]) -> dict[str, str]:
    return dict(_one(manifests, "ConfigMap", "")["data"])


@pytest.mark.parametrize("strict", [False, True], ids=["lint", "lint-strict"])
@pytest.mark.parametrize("values", [None, PRODUCTION], ids=["default", "production"])
def test_helm_lint(helm: Path, strict: bool, values: Path | None) -> None:
    args = ["lint", str(CHART)]
    if strict:
        args.append("--strict")
    if values is not None:
        args += ["--values", str(values)]
    result = _run(helm, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


def test_chart_has_no_remote_dependencies() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert not chart.get("dependencies")
    assert not (CHART / "charts").exists() or not any((CHART / "charts").iterdir())


def test_every_manifest_is_valid_kubernetes_in_strict_mode(manifests: list[Manifest]) -> None:
    problems = []
    for manifest in manifests:
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = "/".join(str(p) for p in exc.path)
            problems.append(
                f"{manifest['kind']} {manifest['metadata']['name']}: {where}: {exc.message}"
            )
    assert problems == []
    kinds = {m["kind"] for m in manifests}
    assert {
        "ConfigMap",
        "Deployment",
        "StatefulSet",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Job",
        "Pod",
        "ServiceAccount",
    } <= kinds


def test_strict_validation_rejects_a_misspelled_field() -> None:
    # The check above is only worth something if strict mode refuses unknown fields.
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "x"},
        "spec": {"ports": [{"port": 80, "targetPrt": 8000}]},
    }
    with pytest.raises(kubernetes_validate.ValidationError, match="targetPrt"):
        kubernetes_validate.validate(service, KUBERNETES_VERSION, strict=True)


def test_ingest_is_one_pod_replaced_not_rolled(manifests: list[Manifest]) -> None:
    ingest = _one(manifests, "Deployment", "-ingest")
    assert ingest["spec"]["replicas"] == 1
    assert ingest["spec"]["strategy"] == {"type": "Recreate"}
    (container,) = _pod_spec(ingest)["containers"]
    assert container["args"] == ["ingest"]
    assert _config(manifests)["INGEST_TRANSACTIONAL_ID"] == "sec-digester-ingest"


def test_analyze_replicas_have_stable_ids_and_share_the_sec_rate(
    manifests: list[Manifest],
) -> None:
    analyze = _one(manifests, "StatefulSet", "-analyze")
    replicas = analyze["spec"]["replicas"]
    (container,) = _pod_spec(analyze)["containers"]
    env = _env(container)
    # The pod name of a StatefulSet (<name>-0, -1, ...) survives rescheduling.
    assert env["ANALYZE_INSTANCE_ID"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env["ANALYZE_REPLICAS"]["value"] == str(replicas)
    assert replicas <= int(_config(manifests)["TOPIC_PARTITIONS"])
    governing = _one(manifests, "Service", "-analyze")
    assert analyze["spec"]["serviceName"] == governing["metadata"]["name"]
    assert governing["spec"]["clusterIP"] == "None"


def test_production_values_scale_analyze(production_manifests: list[Manifest]) -> None:
    analyze = _one(production_manifests, "StatefulSet", "-analyze")
    assert analyze["spec"]["replicas"] == 3
    (container,) = _pod_spec(analyze)["containers"]
    assert _env(container)["ANALYZE_REPLICAS"]["value"] == "3"


def test_more_analyze_replicas_than_partitions_is_refused(helm: Path) -> None:
    result = _run(
        helm,
        "template",
        RELEASE,
        str(CHART),
        "--set",
        "analyze.replicas=4",
        "--set",
        "topics.partitions=3",
    )
    assert result.returncode != 0
    assert "analyze.replicas (4) is more than topics.partitions (3)" in result.stderr


def test_sasl_without_a_secret_is_refused(helm: Path) -> None:
    result = _run(
        helm,
        "template",
        RELEASE,
        str(CHART),
        "--set",
        "kafka.securityProtocol=SASL_SSL",
        "--set",
        "kafka.sasl.mechanism=PLAIN",
    )
    assert result.returncode != 0
    assert "kafka.sasl.existingSecret" in result.stderr


def test_gateway_scales_on_cpu(manifests: list[Manifest]) -> None:
    gateway = _one(manifests, "Deployment", "-gateway")
    hpa = _one(manifests, "HorizontalPodAutoscaler", "-gateway")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": gateway["metadata"]["name"],
    }
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    # The HPA owns the replica count: the Deployment must not reset it on every upgrade.
    assert "replicas" not in gateway["spec"]
    service = _one(manifests, "Service", "-gateway")
    assert service["spec"]["ports"][0]["port"] == 8000


def test_production_gateway_runs_at_least_three(production_manifests: list[Manifest]) -> None:
    hpa = _one(production_manifests, "HorizontalPodAutoscaler", "-gateway")
    assert hpa["spec"]["minReplicas"] == 3


def test_every_pod_is_locked_down(manifests: list[Manifest]) -> None:
    pods = [m for m in manifests if m["kind"] in POD_KINDS]
    assert len(pods) == 5  # ingest, analyze, gateway, the hook Job, the test Pod
    for manifest in pods:
        spec = _pod_spec(manifest)
        name = manifest["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] == 10001, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        tmp_volumes = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
        for container in _containers(spec):
            where = f"{name}/{container['name']}"
            security = container["securityContext"]
            assert security["runAsNonRoot"] is True, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}, where
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert mounts.get("/tmp") in tmp_volumes, where
            assert container["resources"]["requests"], where
            assert container["resources"]["limits"], where


@pytest.mark.parametrize(
    ("kind", "suffix", "port"),
    [
        ("Deployment", "-ingest", 8001),
        ("StatefulSet", "-analyze", 8002),
        ("Deployment", "-gateway", 8000),
    ],
)
def test_services_are_probed_on_their_own_port(
    manifests: list[Manifest], kind: str, suffix: str, port: int
) -> None:
    (container,) = _pod_spec(_one(manifests, kind, suffix))["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": port}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    service = _one(manifests, "Service", suffix)
    assert service["spec"]["ports"][0]["port"] == port
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_disruption_budgets_cover_every_workload(manifests: list[Manifest]) -> None:
    for suffix in ("-ingest", "-analyze", "-gateway"):
        budget = _one(manifests, "PodDisruptionBudget", suffix)
        assert budget["spec"]["maxUnavailable"] == 1


def test_hook_job_creates_topics_then_registers_schemas(manifests: list[Manifest]) -> None:
    job = _one(manifests, "Job", "-bootstrap")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    spec = _pod_spec(job)
    (first,) = spec["initContainers"]
    (then,) = spec["containers"]
    assert [first["command"] + first["args"], then["command"] + then["args"]] == [
        ["sec-digester", "topics", "create"],
        ["sec-digester", "schemas", "register"],
    ]
    # A pre-install hook runs before the ConfigMap exists: its settings are inline, and they
    # are the same as the services'.
    config = _config(manifests)
    for container in (first, then):
        assert "envFrom" not in container
        env = _env(container)
        for name in (
            "KAFKA_BOOTSTRAP_SERVERS",
            "SCHEMA_REGISTRY_URL",
            "TOPIC_RAW",
            "TOPIC_PARTITIONS",
            "TOPIC_REPLICATION_FACTOR",
            "SCHEMA_COMPATIBILITY",
        ):
            assert env[name]["value"] == config[name], name


def test_configuration_uses_the_services_setting_names(manifests: list[Manifest]) -> None:
    known = {
        field.upper()
        for settings in (
            IngestSettings,
            AnalyzeSettings,
            GatewaySettings,
            TopicSettings,
            SchemaSettings,
        )
        for field in settings.model_fields
    }
    config = _config(manifests)
    assert set(config) - NOT_SETTINGS <= known
    for manifest in manifests:
        if manifest["kind"] in POD_KINDS:
            for container in _containers(_pod_spec(manifest)):
                assert set(_env(container)) - NOT_SETTINGS <= known


def test_production_secrets_are_referenced_never_inlined(
    production_manifests: list[Manifest],
) -> None:
    assert not [m for m in production_manifests if m["kind"] == "Secret"]
    config = _config(production_manifests)
    assert not SECRET_SETTINGS & set(config)
    assert config["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert config["TOPIC_REPLICATION_FACTOR"] == "3"
    assert config["LLM_MODEL"]
    for manifest in production_manifests:
        if manifest["kind"] not in POD_KINDS:
            continue
        for container in _containers(_pod_spec(manifest)):
            for name, entry in _env(container).items():
                if name in SECRET_SETTINGS:
                    assert set(entry) == {"name", "valueFrom"}, name
                    assert "secretKeyRef" in entry["valueFrom"], name

    gateway = _one(production_manifests, "Deployment", "-gateway")
    (container,) = _pod_spec(gateway)["containers"]
    assert _env(container)["GATEWAY_API_KEYS"]["valueFrom"]["secretKeyRef"]["name"]
    analyze = _one(production_manifests, "StatefulSet", "-analyze")
    (container,) = _pod_spec(analyze)["containers"]
    assert {"secretRef": {"name": "sec-digester-llm"}} in container["envFrom"]
    env = _env(container)
    assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "sec-digester-kafka"
    # The Kafka CA: a Secret volume, mounted where KAFKA_SSL_CA_LOCATION points.
    spec = _pod_spec(analyze)
    ca_volume = next(v for v in spec["volumes"] if "secret" in v)
    mount = next(m for m in container["volumeMounts"] if m["name"] == ca_volume["name"])
    assert mount["readOnly"] is True
    assert config["KAFKA_SSL_CA_LOCATION"].startswith(mount["mountPath"] + "/")


def test_default_values_hold_no_credentials(default_manifests: list[Manifest]) -> None:
    assert not [m for m in default_manifests if m["kind"] == "Secret"]
    assert not SECRET_SETTINGS & set(_config(default_manifests))


def test_helm_test_hook_asks_the_gateway(manifests: list[Manifest]) -> None:
    pod = _one(manifests, "Pod", "-test-gateway")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    (container,) = _pod_spec(pod)["containers"]
    command = " ".join(container["command"])
    assert "/healthz" in command
    service = _one(manifests, "Service", "-gateway")
    url = f"http://{service['metadata']['name']}:{service['spec']['ports'][0]['port']}"
    assert url in container["command"]


def test_other_shapes_render_valid_manifests(helm: Path) -> None:
    # Fixed replicas instead of the HPA, SASL credentials both from the Secret, TLS with a CA,
    # an existing ServiceAccount, extra settings, ingest left to another release.
    manifests = _render(
        helm,
        "--set",
        "gateway.autoscaling.enabled=false,gateway.replicas=4",
        "--set",
        "kafka.securityProtocol=SASL_SSL,kafka.sasl.mechanism=SCRAM-SHA-256",
        "--set",
        "kafka.sasl.existingSecret=kafka-user,kafka.tls.caSecret=kafka-ca",
        "--set",
        "serviceAccount.create=false,serviceAccount.name=existing",
        "--set-string",
        "extraEnv.INGEST_MAX_PAGES=40",
        "--set",
        "ingest.enabled=false",
    )
    for manifest in manifests:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    assert not [m for m in manifests if m["metadata"]["name"].endswith("-ingest")]
    assert not [m for m in manifests if m["kind"] in {"HorizontalPodAutoscaler", "Secret"}]
    assert _one(manifests, "Deployment", "-gateway")["spec"]["replicas"] == 4
    config = _config(manifests)
    assert config["INGEST_MAX_PAGES"] == "40"
    assert "KAFKA_SASL_USERNAME" not in config
    job = _one(manifests, "Job", "-bootstrap")
    assert _pod_spec(job)["serviceAccountName"] == "existing"
    for container in _containers(_pod_spec(job)):
        env = _env(container)
        for name in ("KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"):
            assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "kafka-user"
        assert env["KAFKA_SSL_CA_LOCATION"]["value"] == "/etc/sec-digester/kafka-ca/ca.crt"


def test_the_store_dsn_comes_from_a_secret(helm: Path, manifests: list[Manifest]) -> None:
    default_gateway = _containers(_pod_spec(_one(manifests, "Deployment", "-gateway")))
    assert all("STORE_DSN" not in _env(c) for c in default_gateway)  # SQLite by default
    rendered = _render(
        helm,
        "--set",
        "gateway.store.postgres.existingSecret=filings-db",
        "--set",
        "gateway.store.postgres.existingSecretKey=dsn",
    )
    for manifest in rendered:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    (container,) = _containers(_pod_spec(_one(rendered, "Deployment", "-gateway")))
    reference = _env(container)["STORE_DSN"]["valueFrom"]["secretKeyRef"]
    assert reference == {"name": "filings-db", "key": "dsn"}
    assert "STORE_DSN" not in _config(rendered)  # never in the ConfigMap


# Each container of the chart and the settings class its command reads.
SETTINGS_OF: dict[tuple[str, str, str], type[CommonSettings]] = {
    ("Deployment", "-ingest", "ingest"): IngestSettings,
    ("StatefulSet", "-analyze", "analyze"): AnalyzeSettings,
    ("Deployment", "-gateway", "gateway"): GatewaySettings,
    ("Job", "-bootstrap", "topics-create"): TopicSettings,
    ("Job", "-bootstrap", "schemas-register"): SchemaSettings,
}
# Values other than the defaults for everything the chart sets about scale, limits and outages.
NON_DEFAULT = {
    "kafka.outageToleranceS": "45",
    "analyze.replicas": "2",
    "analyze.podDisruptionBudget.maxUnavailable": "2",
    "gateway.autoscaling.enabled": "false",
    "gateway.replicas": "5",
    "gateway.podDisruptionBudget.maxUnavailable": "2",
    "gateway.maxConnectionsPerKey": "7",
    "gateway.maxReplaysPerKey": "3",
    "gateway.maxMcpRequestsPerKey": "2",
    "gateway.replayRecordsPerSPerKey": "1500",
    "gateway.replayProcesses": "3",
    "ingest.podDisruptionBudget.maxUnavailable": "1",
    "edgar.userAgent": "Example Corp ops@example.com",
}


def _environment(container: dict[str, Any], config: dict[str, str]) -> dict[str, str]:
    """What a container's process finds in its environment: the ConfigMap (envFrom), then its
    own env entries; a Secret's value as a placeholder, the pod name as a StatefulSet's."""
    environment = dict(config) if "envFrom" in container else {}
    for name, entry in _env(container).items():
        if "value" in entry:
            environment[name] = entry["value"]
        elif "fieldRef" in entry["valueFrom"]:
            environment[name] = f"{RELEASE}-analyze-0"
        else:
            environment[name] = "from-a-secret"
    return environment


def _loaded(cls: type[CommonSettings], environment: dict[str, str], where: str) -> CommonSettings:
    """`cls` as the process builds it from `environment` (fields only: the ConfigMap is shared,
    each service ignores the others' variables, as pydantic-settings does)."""
    names = {name.upper(): name for name in cls.model_fields}
    given = {names[key]: value for key, value in environment.items() if key in names}
    try:
        return cls.model_validate(given)
    except ValueError as exc:
        raise AssertionError(f"{where}: the chart's settings do not validate: {exc}") from exc


def test_the_rendered_settings_are_each_services_own_and_agree_with_the_values(
    helm: Path,
) -> None:
    manifests = _render(
        helm, *(arg for k, v in NON_DEFAULT.items() for arg in ("--set", f"{k}={v}"))
    )
    config = _config(manifests)
    consumers: set[str] = set()
    loaded: dict[str, CommonSettings] = {}
    for (kind, suffix, name), cls in SETTINGS_OF.items():
        container = next(
            c for c in _containers(_pod_spec(_one(manifests, kind, suffix))) if c["name"] == name
        )
        environment = _environment(container, config)
        fields = {field.upper() for field in cls.model_fields}
        if kind == "Job":  # its two commands share one env list: settings of either
            fields |= {
                field.upper()
                for field in (*TopicSettings.model_fields, *SchemaSettings.model_fields)
            }
        # Its own entries are settings of this very process, not of another.
        own = set(_env(container)) - NOT_SETTINGS
        assert own <= fields, (name, own - fields)
        consumers |= fields  # the ConfigMap is the settings of all (the Job's inlined)
        loaded[name] = _loaded(cls, environment, name)
    # Every variable of the shared ConfigMap is a setting of some process that reads it.
    assert set(config) - NOT_SETTINGS <= consumers, set(config) - NOT_SETTINGS - consumers
    # The outage tolerance reaches every process, the hook Job's included.
    assert {name: s.kafka_outage_tolerance_s for name, s in loaded.items()} == dict.fromkeys(
        loaded, 45.0
    )
    gateway = loaded["gateway"]
    assert isinstance(gateway, GatewaySettings)
    assert (
        gateway.gateway_max_connections_per_key,
        gateway.gateway_max_replays_per_key,
        gateway.gateway_max_mcp_requests_per_key,
        gateway.gateway_replay_records_per_s_per_key,
        gateway.gateway_replay_processes,
    ) == (7, 3, 2, 1500.0, 3)
    analyze = loaded["analyze"]
    assert isinstance(analyze, AnalyzeSettings)
    assert analyze.analyze_replicas == 2
    assert analyze.analyze_instance_id == f"{RELEASE}-analyze-0"
    # Replicas and budgets as set; each budget lets a rolling restart or a drain proceed.
    assert _one(manifests, "StatefulSet", "-analyze")["spec"]["replicas"] == 2
    assert _one(manifests, "Deployment", "-gateway")["spec"]["replicas"] == 5
    assert _one(manifests, "Deployment", "-ingest")["spec"]["replicas"] == 1
    budgets = {
        suffix: _one(manifests, "PodDisruptionBudget", suffix)["spec"]["maxUnavailable"]
        for suffix in ("-ingest", "-analyze", "-gateway")
    }
    assert budgets == {"-ingest": 1, "-analyze": 2, "-gateway": 2}


def test_the_defaults_of_the_chart_are_the_services_defaults(
    default_manifests: list[Manifest],
) -> None:
    config = _config(default_manifests)
    for name, field in (
        ("KAFKA_OUTAGE_TOLERANCE_S", CommonSettings.model_fields["kafka_outage_tolerance_s"]),
        *(
            (key.upper(), GatewaySettings.model_fields[key])
            for key in (
                "gateway_max_connections_per_key",
                "gateway_max_replays_per_key",
                "gateway_max_mcp_requests_per_key",
                "gateway_replay_records_per_s_per_key",
            )
        ),
    ):
        assert float(config[name]) == field.default, name


def test_a_budget_that_blocks_every_disruption_is_refused(helm: Path) -> None:
    result = _run(
        helm,
        "template",
        RELEASE,
        str(CHART),
        "--set",
        "gateway.podDisruptionBudget.maxUnavailable=0",
    )
    assert result.returncode != 0
    assert "gateway.podDisruptionBudget.maxUnavailable must be at least 1" in result.stderr


def test_readiness_gates_the_gateways_traffic(manifests: list[Manifest]) -> None:
    gateway = _one(manifests, "Deployment", "-gateway")
    (container,) = _pod_spec(gateway)["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    # A new pod takes traffic, and the rollout goes on, only once it is ready.
    assert gateway["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    service = _one(manifests, "Service", "-gateway")
    assert not service["spec"].get("publishNotReadyAddresses", False)
