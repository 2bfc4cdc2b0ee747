"""What each values scenario promises: existing Secrets, KEDA, network policy, validation
of values, and the README's values table."""

from __future__ import annotations

import re
import shutil
from typing import TYPE_CHECKING, Any

import pytest
import values_table
import yaml
from chart_rendering import (
    CHART_DIR,
    SCENARIOS,
    decoded_secrets,
    helm,
    of_kind,
    pod_spec,
    render,
    require_contributed,
    scenario_args,
    template_args,
)

from mailcontract import Keyring

if TYPE_CHECKING:
    from pathlib import Path

SECRET_ENV = {"DATABASE_URL", "OTP_HMAC_SECRET", "JWT_SECRET", "SMTP_USERNAME", "SMTP_PASSWORD"}
SECRET_ENV |= {"KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "MAIL_SEAL_KEYS"}


def _env(manifests: list[dict[str, Any]], component: str) -> dict[str, dict[str, Any]]:
    deployment = next(
        d
        for d in of_kind(manifests, "Deployment")
        if d["metadata"]["labels"]["app.kubernetes.io/component"] == component
    )
    return {e["name"]: e for e in pod_spec(deployment)["containers"][0]["env"]}


def test_existing_secrets_scenario_creates_no_secret_and_reads_the_named_ones():
    manifests = render("existing-secrets")
    assert not of_kind(manifests, "Secret")
    refs = {
        name: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
        for component in ("movies", "mailer")
        for name, e in _env(manifests, component).items()
        if name in SECRET_ENV
    }
    assert refs == {
        "DATABASE_URL": ("reelmail-db", "url"),
        "OTP_HMAC_SECRET": ("reelmail-auth", "otp-hmac"),
        "JWT_SECRET": ("reelmail-auth", "jwt"),
        "MAIL_SEAL_KEYS": ("reelmail-auth", "mail-seal"),
        "SMTP_USERNAME": ("reelmail-smtp", "user"),
        "SMTP_PASSWORD": ("reelmail-smtp", "password"),
        "KAFKA_SASL_USERNAME": ("reelmail-kafka", "user"),
        "KAFKA_SASL_PASSWORD": ("reelmail-kafka", "password"),
    }
    (job,) = of_kind(manifests, "Job")
    job_env = {e["name"]: e for e in pod_spec(job)["containers"][0]["env"]}
    assert job_env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "reelmail-db",
        "key": "url",
    }


def test_kafka_ca_is_mounted_where_kafka_ssl_cafile_points():
    manifests = render("existing-secrets")
    for deployment in of_kind(manifests, "Deployment"):
        component = deployment["metadata"]["labels"]["app.kubernetes.io/component"]
        config = next(
            cm["data"]
            for cm in of_kind(manifests, "ConfigMap")
            if cm["metadata"]["labels"].get("app.kubernetes.io/component") == component
        )
        spec = pod_spec(deployment)
        mount = next(m for m in spec["containers"][0]["volumeMounts"] if m["name"] == "kafka-ca")
        volume = next(v for v in spec["volumes"] if v["name"] == "kafka-ca")
        assert volume["secret"]["secretName"] == "reelmail-kafka-ca"
        assert config["KAFKA_SSL_CAFILE"] == f"{mount['mountPath']}/ca.pem"
        assert config["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"


def test_inline_secrets_land_in_the_chart_secret_only():
    manifests = render("everything")
    secrets = decoded_secrets(manifests)
    assert secrets["SMTP_PASSWORD"] == {"everything-smtp-password-f00d"}
    assert secrets["KAFKA_SASL_PASSWORD"] == {"everything-kafka-password-c0ffee"}
    hook = next(
        s
        for s in of_kind(manifests, "Secret")
        if "helm.sh/hook" in s["metadata"].get("annotations", {})
    )
    assert set(hook["data"]) == {"DATABASE_URL"}


def test_migrations_run_as_a_pre_install_and_pre_upgrade_hook():
    (job,) = of_kind(render("minimal"), "Job")
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert pod_spec(job)["containers"][0]["command"] == ["python", "-m", "movies", "migrate"]
    assert pod_spec(job)["restartPolicy"] == "Never"


def test_no_database_means_no_migrations_job():
    assert not of_kind(render("default"), "Job")


def test_keda_scales_the_mailer_on_consumer_lag():
    manifests = render("keda")
    (scaled,) = of_kind(manifests, "ScaledObject")
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["lagThreshold"] == "20"
    assert trigger["metadata"]["activationLagThreshold"] == "5"
    assert trigger["metadata"]["consumerGroup"] == "mailer"
    assert trigger["metadata"]["topic"] == "mail.otp.v1"
    assert trigger["metadata"]["sasl"] == "plaintext"
    mailer = next(
        d for d in of_kind(manifests, "Deployment") if d["metadata"]["name"].endswith("-mailer")
    )
    assert scaled["spec"]["scaleTargetRef"]["name"] == mailer["metadata"]["name"]
    assert "replicas" not in mailer["spec"]
    assert not of_kind(manifests, "HorizontalPodAutoscaler")
    (auth,) = of_kind(manifests, "TriggerAuthentication")
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    assert {ref["parameter"] for ref in auth["spec"]["secretTargetRef"]} == {"username", "password"}


def test_network_policy_egress_goes_only_to_the_configured_ports():
    manifests = render("everything")
    expected = {
        "movies": {53, 9093, 9094, 5432, 4318},
        "mailer": {53, 9093, 9094, 465, 4318},
        "migrations": {53, 5432},
    }
    policies = of_kind(manifests, "NetworkPolicy")
    assert {p["metadata"]["labels"]["app.kubernetes.io/component"] for p in policies} == set(
        expected
    )
    for policy in policies:
        component = policy["metadata"]["labels"]["app.kubernetes.io/component"]
        assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        ports = {port["port"] for rule in policy["spec"]["egress"] for port in rule["ports"]}
        assert ports == expected[component], component
        assert all(rule.get("to") for rule in policy["spec"]["egress"]), component


def test_network_policy_leaves_out_otlp_when_tracing_is_off():
    manifests = render("minimal", "--set", "networkPolicy.enabled=true")
    for policy in of_kind(manifests, "NetworkPolicy"):
        ports = {port["port"] for rule in policy["spec"]["egress"] for port in rule["ports"]}
        assert not ports & {4317, 4318}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["mailer.keda.enabled=true", "mailer.autoscaling.enabled=true"], "enable one of them"),
        (["mailer.drainSeconds=50"], "must exceed mailer.drainSeconds"),
        (["metrics.serviceMonitor.enabled=true", "metrics.podMonitor.enabled=true"], "twice"),
        (["otel.enabled=true"], "otel.endpoint"),
        (["smtp.username=someone"], "set together"),
        (["kafka.securityProtocol=SASL_SSL"], "kafka.sasl.mechanism"),
        (["kafka.sasl.mechanism=PLAIN"], "SASL_PLAINTEXT or SASL_SSL"),
        (["auth.otpHmacSecret=short"], "otpHmacSecret"),
        (["smtp.security=ssl"], "smtp/security"),
        (["movies.port=0"], "movies/port"),
        (["mailer.typo=1"], "typo"),
    ],
)
def test_inconsistent_values_fail_the_render_with_a_reason(flags, message):
    args = template_args("default", "1.37.0", *[part for flag in flags for part in ("--set", flag)])
    result = helm(*args)
    assert result.returncode != 0
    assert message in result.stderr


def test_names_stay_within_63_characters():
    long_release = "a-very-long-release-name-that-goes-on-and-on-and-on"
    result = helm(
        "template",
        long_release,
        str(CHART_DIR),
        "--values",
        str(CHART_DIR / "ci" / "everything-values.yaml"),
    )
    assert result.returncode == 0, result.stderr
    for doc in filter(None, yaml.safe_load_all(result.stdout)):
        assert len(doc["metadata"]["name"]) <= 63, doc["metadata"]["name"]
        for value in doc["metadata"]["labels"].values():
            assert len(value) <= 63


OPAQUE_VALUES = frozenset(
    {"podSecurityContext", "containerSecurityContext", "strategy", "resources"}
)


def _is_group(key: str, value: Any) -> bool:
    """Whether a values key is a group of documented keys, not one opaque object."""
    return (
        bool(value)
        and isinstance(value, dict)
        and key not in OPAQUE_VALUES
        and not key.endswith("Probe")
    )


def _leaf_keys(values: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in values.items():
        if _is_group(key, value):
            keys |= _leaf_keys(value, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def test_readme_values_table_is_written_from_values_yaml():
    readme = (CHART_DIR / "README.md").read_text(encoding="utf-8")
    values = (CHART_DIR / "values.yaml").read_text(encoding="utf-8")
    assert readme == values_table.readme_with_table(readme, values), (
        "README.md's values table differs from values.yaml: run `make chart-readme`"
    )


def test_readme_values_table_lists_every_value():
    readme = (CHART_DIR / "README.md").read_text(encoding="utf-8").split("\n## Values\n", 1)[-1]
    documented = set(re.findall(r"^\| `([^`]+)` \|", readme, re.MULTILINE))
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text(encoding="utf-8"))
    missing = _leaf_keys(values) - documented
    assert not missing, f"README.md values table lacks {sorted(missing)}"
    stale = documented - _leaf_keys(values)
    assert not stale, f"README.md documents values that do not exist: {sorted(stale)}"


# helm template does not render NOTES.txt; a copy of the chart renders it into a ConfigMap.
NOTES_PROBE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: notes-under-test
data:
  notes: {{ include "notes.under.test" . | quote }}
"""


def _notes(tmp_path: Path, scenario: str, *extra: str) -> str:
    chart = tmp_path / "reelmail"
    shutil.copytree(CHART_DIR, chart)
    notes = (chart / "templates" / "NOTES.txt").read_text(encoding="utf-8")
    wrapped = '{{- define "notes.under.test" -}}\n' + notes + "{{- end }}\n"
    (chart / "templates" / "_notes_under_test.tpl").write_text(wrapped, encoding="utf-8")
    (chart / "templates" / "notes-under-test.yaml").write_text(NOTES_PROBE, encoding="utf-8")
    args = ["template", "shop", str(chart), "--show-only", "templates/notes-under-test.yaml"]
    result = helm(*args, *scenario_args(scenario), *extra)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["data"]["notes"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_notes_render_and_tell_how_to_check_the_release(tmp_path, scenario):
    require_contributed(scenario)
    notes = _notes(tmp_path, scenario)
    assert "helm test shop" in notes
    assert "/readyz" in notes or "https://" in notes


def test_notes_warn_about_what_the_default_values_leave_out(tmp_path):
    notes = _notes(tmp_path, "default")
    for value in ("kafka.bootstrapServers", "database.url", "smtp.host"):
        assert value in notes
    assert "WARNING" not in _notes(tmp_path / "minimal", "minimal")


def test_network_policy_lets_the_helm_test_pod_call_readyz():
    manifests = render("everything")
    (test_pod,) = of_kind(manifests, "Pod")
    labels = test_pod["metadata"]["labels"]
    for policy in of_kind(manifests, "NetworkPolicy"):
        if policy["metadata"]["labels"]["app.kubernetes.io/component"] == "migrations":
            continue
        peers = [peer for rule in policy["spec"]["ingress"] for peer in rule.get("from", [])]
        assert any(
            peer.get("podSelector", {}).get("matchLabels", {}).items() <= labels.items()
            and "namespaceSelector" not in peer
            for peer in peers
        ), policy["metadata"]["name"]


def _egress_ports(manifests: list[dict[str, Any]]) -> dict[str, set[int]]:
    return {
        policy["metadata"]["labels"]["app.kubernetes.io/component"]: {
            port["port"] for rule in policy["spec"]["egress"] for port in rule.get("ports", [])
        }
        for policy in of_kind(manifests, "NetworkPolicy")
    }


def test_network_policy_egress_follows_smtp_port_and_kafka_bootstrap_ports():
    manifests = render(
        "minimal",
        "--set",
        "networkPolicy.enabled=true",
        "--set",
        "smtp.port=465",
        "--set",
        "kafka.bootstrapServers=kafka-0.kafka:9093\\,[fd00::1]:9094\\,kafka-1.kafka:9093",
    )
    ports = _egress_ports(manifests)
    assert ports["mailer"] == {53, 9093, 9094, 465}
    assert ports["movies"] == {53, 9093, 9094, 5432}


def test_network_policy_takes_extra_egress_rules_per_component():
    manifests = render(
        "minimal",
        "--set",
        "networkPolicy.enabled=true",
        "--set-json",
        'networkPolicy.extraEgress.movies=[{"ports":[{"port":3128,"protocol":"TCP"}]}]',
    )
    ports = _egress_ports(manifests)
    assert 3128 in ports["movies"]
    assert 3128 not in ports["mailer"] | ports["migrations"]


def test_unparsable_kafka_bootstrap_fails_a_network_policy_render():
    args = template_args(
        "minimal",
        "1.37.0",
        "--set",
        "networkPolicy.enabled=true",
        "--set",
        "kafka.bootstrapServers=kafka-without-port",
    )
    result = helm(*args)
    assert result.returncode != 0
    assert "kafka.bootstrapServers" in result.stderr


def test_an_offline_render_without_auth_secrets_fails_saying_how_to_supply_them():
    result = helm("template", "shop", str(CHART_DIR), "--namespace", "reelmail")
    assert result.returncode != 0
    for hint in ("auth.existingSecret", "auth.otpHmacSecret", "GitOps", "regenerated"):
        assert hint in result.stderr


def test_a_render_with_one_inline_auth_secret_still_asks_for_the_other():
    result = helm("template", "shop", str(CHART_DIR), "--set", "auth.otpHmacSecret=" + "h" * 40)
    assert result.returncode != 0
    assert "JWT_SECRET" in result.stderr
    assert "OTP_HMAC_SECRET" not in result.stderr.split("JWT_SECRET", 1)[0]


@pytest.mark.parametrize("scenario", ["everything", "existing-secrets", "keda", "minimal"])
def test_two_renders_give_the_same_secret_and_pod_checksums(scenario):
    def rendered() -> tuple[str, ...]:
        result = helm(*template_args(scenario, "1.37.0"))
        assert result.returncode == 0, result.stderr
        manifests = list(filter(None, yaml.safe_load_all(result.stdout)))
        checksums = [
            pod_spec_annotations["checksum/secret"]
            for doc in of_kind(manifests, "Deployment")
            for pod_spec_annotations in [doc["spec"]["template"]["metadata"]["annotations"]]
        ]
        return (*checksums, yaml.safe_dump(of_kind(manifests, "Secret")))

    assert rendered() == rendered()


def test_notes_warn_when_an_ingress_has_no_trusted_proxies(tmp_path):
    assert "movies.trustedProxies" not in _notes(tmp_path / "everything", "everything")
    chart = tmp_path / "ingress-only"
    notes = _notes(chart, "minimal", "--set", "movies.ingress.enabled=true")
    assert "WARNING: the Ingress is on but movies.trustedProxies is empty" in notes


def test_both_services_share_one_mail_keyring_that_the_services_accept():
    manifests = render("everything")
    [keys] = decoded_secrets(manifests)["MAIL_SEAL_KEYS"]
    for component in ("movies", "mailer"):
        ref = _env(manifests, component)["MAIL_SEAL_KEYS"]["valueFrom"]["secretKeyRef"]
        assert ref["key"] == "MAIL_SEAL_KEYS"
        config = next(
            cm["data"]
            for cm in of_kind(manifests, "ConfigMap")
            if cm["metadata"]["labels"].get("app.kubernetes.io/component") == component
        )
        keyring = Keyring.from_env({**config, "MAIL_SEAL_KEYS": keys}, sealing=True)
        assert keyring.active == "everything-2"
        assert set(keyring.ciphers) == {"everything-1", "everything-2"}
        assert keyring.retired == {"everything-0"}


def test_notes_say_the_slo_panels_need_the_prometheus_rule(tmp_path):
    alone = _notes(tmp_path / "alone", "minimal", "--set", "dashboards.enabled=true")
    assert "prometheusRule.enabled" in alone
    both = _notes(
        tmp_path / "both",
        "minimal",
        "--set",
        "dashboards.enabled=true",
        "--set",
        "prometheusRule.enabled=true",
    )
    assert "prometheusRule.enabled" not in both


def _spec(manifests: list[dict[str, Any]], kind: str, component: str) -> dict[str, Any]:
    return next(
        d
        for d in of_kind(manifests, kind)
        if d["metadata"]["labels"].get("app.kubernetes.io/component") == component
    )


def _movies_replicas(scenario: str, *extra: str) -> int:
    return int(_spec(render(scenario, *extra), "Deployment", "movies")["spec"]["replicas"])


def test_movies_runs_two_replicas_on_a_database_and_one_on_the_sqlite_fallback():
    assert _movies_replicas("default") == 1
    assert _movies_replicas("minimal") == 2
    assert _movies_replicas("default", "--set", "database.host=db.example.test") == 2
    assert _movies_replicas("default", "--set", "movies.replicaCount=3") == 3
    assert _movies_replicas("default", "--set", "movies.replicaCount=0") == 0


def test_replicas_spread_over_nodes_by_default_and_on_request():
    default = pod_spec(_spec(render("default"), "Deployment", "movies"))
    (soft,) = default["affinity"]["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    term = soft["podAffinityTerm"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "movies"
    hard = render("default", "--set", "mailer.podAntiAffinityPreset=hard")
    rules = pod_spec(_spec(hard, "Deployment", "mailer"))["affinity"]["podAntiAffinity"]
    assert list(rules) == ["requiredDuringSchedulingIgnoredDuringExecution"]
    none = render("default", "--set", "movies.podAntiAffinityPreset=")
    assert "affinity" not in pod_spec(_spec(none, "Deployment", "movies"))


def test_an_explicit_affinity_replaces_the_preset_and_spread_gets_the_pod_labels():
    manifests = render("everything")
    spec = pod_spec(_spec(manifests, "Deployment", "movies"))
    assert (
        "podAffinityTerm"
        in spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    )
    spread = render(
        "default",
        "--set-json",
        'movies.topologySpreadConstraints=[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"ScheduleAnyway"}]',
    )
    (constraint,) = pod_spec(_spec(spread, "Deployment", "movies"))["topologySpreadConstraints"]
    assert constraint["labelSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "shop"
    assert constraint["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "movies"


def test_the_migrations_job_takes_priority_labels_env_from_and_a_database_ca():
    (job,) = of_kind(render("everything"), "Job")
    spec = pod_spec(job)
    assert spec["priorityClassName"] == "reelmail-high"
    assert job["spec"]["template"]["metadata"]["labels"]["tier"] == "migrations"
    container = spec["containers"][0]
    assert container["envFrom"] == [{"secretRef": {"name": "migrations-extra"}}]
    assert {"name": "database-ca", "secret": {"secretName": "postgres-ca"}} in spec["volumes"]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "database-ca")
    assert mount["mountPath"] == "/etc/reelmail/database-ca"


def test_monitors_take_a_namespace_and_target_labels():
    manifests = render("everything")
    for monitor in of_kind(manifests, "ServiceMonitor"):
        assert monitor["metadata"]["namespace"] == "monitoring"
        assert monitor["spec"]["namespaceSelector"]["matchNames"] == ["reelmail"]
        assert monitor["spec"]["targetLabels"] == ["app.kubernetes.io/component"]
    for monitor in of_kind(render("keda"), "PodMonitor"):
        assert monitor["spec"]["podTargetLabels"] == ["app.kubernetes.io/version"]


def test_pod_disruption_budgets_take_the_unhealthy_pod_eviction_policy():
    manifests = render("everything")
    policies = {
        pdb["metadata"]["labels"]["app.kubernetes.io/component"]: pdb["spec"].get(
            "unhealthyPodEvictionPolicy"
        )
        for pdb in of_kind(manifests, "PodDisruptionBudget")
    }
    assert policies == {"movies": "AlwaysAllow", "mailer": None}


def test_keda_skips_persistent_lag_and_takes_an_existing_trigger_authentication():
    (scaled,) = of_kind(render("keda"), "ScaledObject")
    assert scaled["spec"]["triggers"][0]["metadata"]["excludePersistentLag"] == "true"
    manifests = render(
        "keda",
        "--set",
        "mailer.keda.authenticationRef.name=kafka-platform",
        "--set",
        "mailer.keda.authenticationRef.kind=ClusterTriggerAuthentication",
    )
    assert not of_kind(manifests, "TriggerAuthentication")
    (scaled,) = of_kind(manifests, "ScaledObject")
    assert scaled["spec"]["triggers"][0]["authenticationRef"] == {
        "name": "kafka-platform",
        "kind": "ClusterTriggerAuthentication",
    }


PARTS = (
    "--set",
    "database.host=pg.db.svc",
    "--set",
    "database.port=6432",
    "--set",
    "database.name=movies",
    "--set",
    "database.user=reelmail",
    "--set",
    "database.parameters.ssl=verify-full",
)


def _database_env(manifests: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    workload = next(
        d
        for d in of_kind(manifests, kind)
        if d["metadata"]["labels"]["app.kubernetes.io/component"] in {"movies", "migrations"}
    )
    return {
        e["name"]: e
        for e in pod_spec(workload)["containers"][0]["env"]
        if e["name"].startswith("DATABASE_")
    }


def test_postgres_from_parts_with_the_password_in_an_existing_secret():
    manifests = render(
        "default",
        *PARTS,
        "--set",
        "database.existingSecret=pg-app",
        "--set",
        "database.passwordKey=password",
    )
    for kind in ("Deployment", "Job"):
        env = _database_env(manifests, kind)
        assert env["DATABASE_URL"]["value"] == (
            "postgresql+asyncpg://reelmail@pg.db.svc:6432/movies?ssl=verify-full"
        )
        assert env["DATABASE_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": "pg-app",
            "key": "password",
        }
    assert "DATABASE_URL" not in decoded_secrets(manifests)
    policies = {
        p["metadata"]["labels"]["app.kubernetes.io/component"]: p
        for p in of_kind(
            render("default", *PARTS, "--set", "networkPolicy.enabled=true"), "NetworkPolicy"
        )
    }
    ports = {
        port["port"] for rule in policies["migrations"]["spec"]["egress"] for port in rule["ports"]
    }
    assert 6432 in ports


def test_postgres_from_parts_with_an_inline_password():
    manifests = render("default", *PARTS, "--set", "database.password=p@ss/w:rd")
    secrets = decoded_secrets(manifests)
    assert secrets["DATABASE_PASSWORD"] == {"p@ss/w:rd"}
    movies = _database_env(manifests, "Deployment")["DATABASE_PASSWORD"]["valueFrom"][
        "secretKeyRef"
    ]
    job = _database_env(manifests, "Job")["DATABASE_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert movies["name"] == "shop-reelmail"
    hook = next(s for s in of_kind(manifests, "Secret") if s["metadata"]["name"] == job["name"])
    assert "helm.sh/hook" in hook["metadata"]["annotations"]
    for config_map in of_kind(manifests, "ConfigMap"):
        assert "p@ss" not in yaml.safe_dump(config_map)


def test_a_database_url_and_parts_together_fail_the_render():
    result = helm(
        *template_args("default", "1.37.0", *PARTS, "--set", "database.url=postgresql://x/y")
    )
    assert result.returncode != 0
    assert "database.url" in result.stderr
    assert "database.host" in result.stderr


MTLS = (
    "--set",
    "kafka.securityProtocol=SSL",
    "--set",
    "kafka.tls.caSecret=kafka-ca",
    "--set",
    "kafka.tls.clientCertSecret=mailer-kafka-client",
    "--set",
    "mailer.keda.enabled=true",
)


def test_kafka_client_certificates_reach_both_services_and_keda():
    manifests = render("default", *MTLS)
    for component in ("movies", "mailer"):
        config = next(
            cm["data"]
            for cm in of_kind(manifests, "ConfigMap")
            if cm["metadata"]["labels"].get("app.kubernetes.io/component") == component
        )
        spec = pod_spec(_spec(manifests, "Deployment", component))
        volume = next(v for v in spec["volumes"] if v["name"] == "kafka-client-cert")
        assert volume["secret"]["secretName"] == "mailer-kafka-client"
        mount = next(
            m for m in spec["containers"][0]["volumeMounts"] if m["name"] == "kafka-client-cert"
        )
        assert mount["readOnly"] is True
        assert config["KAFKA_SSL_CERTFILE"] == f"{mount['mountPath']}/tls.crt"
        assert config["KAFKA_SSL_KEYFILE"] == f"{mount['mountPath']}/tls.key"
    (auth,) = of_kind(manifests, "TriggerAuthentication")
    refs = {ref["parameter"]: (ref["name"], ref["key"]) for ref in auth["spec"]["secretTargetRef"]}
    assert refs == {
        "ca": ("kafka-ca", "ca.crt"),
        "cert": ("mailer-kafka-client", "tls.crt"),
        "key": ("mailer-kafka-client", "tls.key"),
    }


def test_a_client_certificate_without_tls_fails_the_render():
    result = helm(*template_args("default", "1.37.0", "--set", "kafka.tls.clientCertSecret=client"))
    assert result.returncode != 0
    assert "kafka.tls.clientCertSecret" in result.stderr
