"""``stcheck demo``: the online checks against a built-in fake ServiceTitan, in a few seconds.

Starts :class:`stcheck.testing.fake.FakeServiceTitan` on 127.0.0.1 (real HTTPS,
with a throwaway CA), copies the bundled sample manifest
(``stcheck/demo_data/stcheck.yaml``) to a temporary directory, hands the run
its credentials through environment variables set for the run only, and runs
exactly what ``stcheck check`` runs, pointed at the fake with ``--resolve`` and
``--ca-bundle``. Some tenants are broken on purpose; the demo exits 0 when the
run found exactly those problems, 1 otherwise. No credentials, no network
beyond loopback.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from stcheck.exitcodes import ExitCode
from stcheck.model import RunReport, Status
from stcheck.runstate import RunState

if TYPE_CHECKING:
    import argparse

    from stcheck.app import Writer
    from stcheck.plugins import PluginSet
    from stcheck.redact import Redactor
    from stcheck.testing.fake import FakeServiceTitan

REPORT_FILE = "stcheck-demo-report.html"
MARKDOWN_FILE = "stcheck-demo-report.md"

# The problems the sample manifest contains on purpose: (check, tenant, environment) →
# (status, reason). Everything else must pass.
EXPECTED: dict[tuple[str, str | None, str | None], tuple[Status, str]] = {
    ("dns", None, "integration"): (Status.WARN, "private_address"),
    ("dns", None, "production"): (Status.WARN, "private_address"),
    ("token", "rapid-hvac", "production"): (Status.FAIL, "invalid_client"),
    ("api", "rapid-hvac", "production"): (Status.SKIP, "depends_on_failure"),
    ("api", "north-electric", "production"): (Status.FAIL, "forbidden"),
    ("credentials", "bayside-pools", "production"): (Status.FAIL, "unresolved_reference"),
    ("token", "bayside-pools", "production"): (Status.SKIP, "depends_on_failure"),
    ("api", "bayside-pools", "production"): (Status.SKIP, "depends_on_failure"),
    ("credentials", "cedar-landscaping", "integration"): (Status.WARN, "whitespace"),
}
CHECKED = frozenset({"schema", "references", "unique", "credentials", "dns", "token", "api"})

STORY = """\
What the sample holds (stcheck/demo_data/stcheck.yaml):
  good-plumbing        healthy in both environments (production secret from a file)
  rapid-hvac           production variables hold the integration pair -> invalid_client
  north-electric       production tenant_id mistyped (2001030 for 2001003) -> API probe 403
  summit-roofing       integration token endpoint rate-limits once -> retried, passes
  bayside-pools        production secret variable not set -> unresolved_reference
  cedar-landscaping    integration secret with a trailing newline -> whitespace warning
  lakeside-east/-west  one Enterprise Hub production pair -> a token per tenant (tenant=...)
"""


def sample_manifest() -> str:
    """The bundled sample manifest's text."""
    resource = importlib.resources.files("stcheck") / "demo_data" / "stcheck.yaml"
    return resource.read_text(encoding="utf-8")


def _setup_fake(fake: FakeServiceTitan, directory: str) -> dict[str, str]:
    """Register the sample's clients with the fake; return the variables the run gets."""
    from stcheck.testing.fake import FakeClient

    def pair(env: str, tenants: set[int], behavior: str = "ok") -> FakeClient:
        return fake.add_client(FakeClient(env, tenants=tenants, behavior=behavior, retry_after=1))

    env: dict[str, str] = {"DEMO_ST_APP_KEY": fake.app_key}

    def expose(prefix: str, client: FakeClient, secret: str | None = None) -> None:
        env[f"DEMO_{prefix}_CLIENT_ID"] = client.client_id
        env[f"DEMO_{prefix}_CLIENT_SECRET"] = client.client_secret if secret is None else secret

    expose("GP_INT", pair("integration", {1001001}))
    gp_prod = pair("production", {2001001})
    env["DEMO_GP_PROD_CLIENT_ID"] = gp_prod.client_id
    secrets_dir = os.path.join(directory, "secrets")
    os.makedirs(secrets_dir, mode=0o700)
    secret_file = os.path.join(secrets_dir, "good-plumbing-prod")
    descriptor = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(gp_prod.client_secret + "\n")

    rh_int = pair("integration", {1001002})
    pair("production", {2001002})
    expose("RH_INT", rh_int)
    expose("RH_PROD", rh_int)  # the integration pair, where production's belongs

    expose("NE_INT", pair("integration", {1001003}))
    expose("NE_PROD", pair("production", {2001003}))  # the manifest says 2001030

    expose("SR_INT", pair("integration", {1001004}, behavior="rate_limited"))
    expose("SR_PROD", pair("production", {2001004}))

    expose("BP_INT", pair("integration", {1001005}))
    bp_prod = pair("production", {2001005})
    env["DEMO_BP_PROD_CLIENT_ID"] = bp_prod.client_id  # ... and no DEMO_BP_PROD_CLIENT_SECRET

    cl_int = pair("integration", {1001006})
    expose("CL_INT", cl_int, secret=cl_int.client_secret + "\n")
    expose("CL_PROD", pair("production", {2001006}))

    lakeside = FakeClient("production", tenants={2001007, 2001008}, enterprise=True, retry_after=1)
    expose("LAKESIDE_PROD", fake.add_client(lakeside))
    return env


@contextlib.contextmanager
def _environment(values: Mapping[str, str], unset: tuple[str, ...]) -> Iterator[None]:
    """Set ``values`` and remove ``unset`` in ``os.environ`` for the block only."""
    saved = {name: os.environ.get(name) for name in (*values, *unset)}
    try:
        for name in unset:
            os.environ.pop(name, None)
        os.environ.update(values)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def unexpected(report: RunReport) -> list[str]:
    """How the run differs from the sample's deliberate problems (empty: as intended)."""
    problems: list[str] = []
    seen: set[tuple[str, str | None, str | None]] = set()
    for result in report.results:
        if result.check not in CHECKED:
            continue
        key = (result.check, result.tenant, result.environment)
        want = EXPECTED.get(key)
        got = (result.status, result.reason or "")
        if want is not None:
            seen.add(key)
            if got != want:
                problems.append(
                    f"{'/'.join(k for k in key if k)}: expected {want[0].value} {want[1]},"
                    f" got {got[0].value} {got[1]}".rstrip()
                )
        elif result.status is not Status.PASS:
            problems.append(
                f"{'/'.join(k for k in key if k)}: unexpected {result.status.value}"
                f" {result.reason or ''}: {result.message}"
            )
    for key in EXPECTED.keys() - seen:
        problems.append(f"{'/'.join(k for k in key if k)}: expected result missing")
    return problems


def run_demo(
    writer: Writer,
    redactor: Redactor,
    build_parser: Callable[[PluginSet], argparse.ArgumentParser],
) -> int:
    """Run the demo; 0 when it went as intended (the broken tenants are expected).

    ``build_parser`` is the command line's parser (:func:`stcheck.cli.build_parser`):
    the demo runs what ``stcheck check`` and ``stcheck report`` run with those options.
    """
    from stcheck.app import options_from
    from stcheck.plugins import build_plugins
    from stcheck.reporters.text import render
    from stcheck.runner import run
    from stcheck.testing.fake import HOSTS, NEEDS_TRUSTME, FakeServiceTitan

    try:
        import trustme  # noqa: F401  (the fake's CA; the demo extra)
    except ImportError:
        writer.err(f"stcheck demo: {NEEDS_TRUSTME}\n")
        return ExitCode.USAGE
    started = time.perf_counter()
    plugins = build_plugins()
    parser = build_parser(plugins)
    directory = tempfile.mkdtemp(prefix="stcheck-demo-")
    try:
        manifest = os.path.join(directory, "stcheck.yaml")
        with open(manifest, "w", encoding="utf-8") as handle:
            handle.write(sample_manifest())
        with FakeServiceTitan() as fake:
            env = _setup_fake(fake, directory)
            for value in env.values():
                redactor.add_secret(value)
            net_args = ["--timeout", "5", *fake.cli_args()]
            writer.out(
                f"stcheck demo: checking a sample manifest of 8 tenants against a fake"
                f" ServiceTitan on 127.0.0.1:{fake.port}\n"
                "(real HTTPS with a throwaway CA; no credentials, no network beyond loopback)\n\n"
                f"{STORY}\n"
                f"$ stcheck check {manifest} --ca-bundle {fake.ca_bundle} \\\n"
                + "".join(f"    --resolve {entry} \\\n" for entry in fake.resolve)
                + "    --timeout 5\n\n"
            )
            # Direct connections to the fake: a proxy of the caller's must not see the demo.
            no_proxy = ",".join(HOSTS)
            with _environment(
                {**env, "NO_PROXY": no_proxy, "no_proxy": no_proxy},
                unset=("DEMO_BP_PROD_CLIENT_SECRET",),
            ):
                args = parser.parse_args(["check", manifest, *net_args])
                report = run(
                    [manifest], plugins, options_from(args), state=RunState(redactor=redactor)
                )
                writer.out(render(report))
                requests = fake.token_requests()
                pairs = {(r.environment, r.client_id) for r in requests}
                tokens = {(r.environment, r.client_id, r.form.get("tenant")) for r in requests}
                retries = len(requests) - len(tokens)
                writer.out(
                    f"\nThe fake received {len(requests)} token requests for {len(pairs)} client"
                    " pairs: one per (environment, client ID), except the Enterprise Hub pair"
                    " of lakeside-east and lakeside-west, asked once per tenant with"
                    f" tenant=<tenant_id> — plus {retries}"
                    f" retr{'y' if retries == 1 else 'ies'} after summit-roofing's 429.\n"
                )
                report_note = _readiness_report(
                    parser.parse_args, plugins, manifest, net_args, writer, redactor
                )
        problems = unexpected(report)
        elapsed = time.perf_counter() - started
        if problems:
            writer.out(
                "\nstcheck demo: the run did NOT go as intended:\n"
                + "".join(f"  - {problem}\n" for problem in problems)
            )
            return ExitCode.FAILURES
        writer.out(
            f"{report_note}\nstcheck demo: ran as intended in {elapsed:.1f} s. The failures above"
            " are the sample's deliberate ones, so the demo exits 0; `stcheck check` on this"
            " manifest exits 1.\n"
        )
        return ExitCode.OK
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _readiness_report(
    parse: Callable[[list[str]], argparse.Namespace],
    plugins: PluginSet,
    manifest: str,
    net_args: list[str],
    writer: Writer,
    redactor: Redactor,
) -> str:
    """Write the sample's go-live readiness report (HTML and Markdown) into the working directory.

    Prints the report's summary table; the per-tenant details are in the files.
    """
    from stcheck.app import run_command

    args = parse(
        [
            "report", manifest, "--quiet",
            "--output", f"html={REPORT_FILE}",
            "--output", f"markdown={MARKDOWN_FILE}",
            *net_args,
        ]
    )  # fmt: skip
    writer.out(
        f"\n$ stcheck report --output html={REPORT_FILE} --output markdown={MARKDOWN_FILE}\n\n"
    )
    run_command(args, plugins, writer, redactor)
    with open(MARKDOWN_FILE, encoding="utf-8") as handle:
        summary = handle.read().split("\n### ", 1)[0]
    writer.out(summary.rstrip() + "\n")
    return (
        f"\nThe go-live readiness report, per tenant: {os.path.abspath(REPORT_FILE)}"
        f" (and {os.path.abspath(MARKDOWN_FILE)}).\n"
    )
