"""Fetching the broker and registry from Maven Central into the cache, once.

`resources/pom.xml` names the versions; Maven resolves and downloads (its own cache is ~/.m2),
then copies the jars into `<cache>/kafka-<version>/libs` and the registry archive into
`<cache>/apicurio-<version>`, which is extracted here. A stamp file marks a complete fetch, so a
second `infra up` touches neither Maven nor the network.
"""

from __future__ import annotations

import importlib.resources
import shutil
import subprocess
import tarfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import structlog

from services.common.errors import InfrastructureError

log = structlog.get_logger(__name__)
_POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}
_STAMP = ".complete"


@dataclass(frozen=True)
class Artifacts:
    kafka_libs: Path
    registry_jar: Path
    kafka_version: str
    registry_version: str


def _pom_versions(pom: Path) -> tuple[str, str]:
    properties = ET.parse(pom).getroot().find("m:properties", _POM_NS)  # noqa: S314 (our own file)
    if properties is None:
        raise InfrastructureError(f"{pom} has no <properties>")
    kafka = properties.findtext("m:kafka.version", namespaces=_POM_NS)
    registry = properties.findtext("m:apicurio.version", namespaces=_POM_NS)
    if not kafka or not registry:
        raise InfrastructureError(f"{pom} must set kafka.version and apicurio.version")
    return kafka, registry


def _artifacts(cache: Path, kafka_version: str, registry_version: str) -> Artifacts:
    registry_dir = cache / f"apicurio-{registry_version}"
    return Artifacts(
        kafka_libs=cache / f"kafka-{kafka_version}" / "libs",
        registry_jar=registry_dir / f"apicurio-registry-app-{registry_version}-runner.jar",
        kafka_version=kafka_version,
        registry_version=registry_version,
    )


def fetch_artifacts(cache: Path) -> Artifacts:
    """The cached artifacts, downloading them through Maven the first time."""
    pom_resource = importlib.resources.files("services.infra") / "resources" / "pom.xml"
    with importlib.resources.as_file(pom_resource) as pom:
        kafka_version, registry_version = _pom_versions(pom)
        found = _artifacts(cache, kafka_version, registry_version)
        if (cache / _STAMP).exists() and _stamp_matches(cache, found):
            return found
        if shutil.which("mvn") is None:
            raise InfrastructureError("Maven (mvn) is needed once to fetch Kafka and the registry")
        log.info("fetching Kafka and Apicurio Registry through Maven", cache=str(cache))
        command = [
            "mvn",
            "-B",
            "-q",
            "-f",
            str(pom),
            f"-Dinfra.cache={cache}",
            "dependency:copy-dependencies@kafka",
            "dependency:copy@registry",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
            raise InfrastructureError("Maven could not fetch the artifacts:\n" + "\n".join(tail))
    archive = found.registry_jar.parent / f"apicurio-registry-app-{registry_version}-all.tar.gz"
    with tarfile.open(archive) as tar:
        tar.extractall(found.registry_jar.parent, filter="data")
    archive.unlink()
    (cache / _STAMP).write_text(f"{kafka_version} {registry_version}\n")
    return found


def _stamp_matches(cache: Path, found: Artifacts) -> bool:
    stamped = (cache / _STAMP).read_text().split()
    return (
        stamped == [found.kafka_version, found.registry_version]
        and found.kafka_libs.is_dir()
        and found.registry_jar.is_file()
    )
