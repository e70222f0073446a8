"""The closed vocabulary of ``reason`` words, each with its meaning and a remediation hint.

Every non-pass result carries one of these words. Users' CI scripts match on
them, so a word, once published, keeps its meaning. Plugins should reuse these
words where they fit; a plugin-specific word is prefixed with the plugin's name
(``vault.permission_denied``).
"""

# No ``from __future__ import annotations``: with string annotations, ``NamedTuple`` compiles
# each field's (a ForwardRef) on every start.
from typing import NamedTuple


class Reason(NamedTuple):
    meaning: str
    hint: str


REASONS: dict[str, Reason] = {
    # --- loading the manifest -------------------------------------------------
    "too_large": Reason(
        "The manifest is larger than stcheck accepts.",
        "stcheck reads up to 20 MB and 1,000,000 lines per file; split the tenants over several manifests.",
    ),
    "invalid_yaml": Reason(
        "The file is not well-formed YAML.", "Fix the syntax at the position given."
    ),
    "empty": Reason("The file holds no YAML document.", "Start from examples/stcheck.yaml."),
    "multi_document": Reason(
        "The file holds more than one YAML document.",
        "Keep one manifest per file; remove the extra '---'.",
    ),
    "not_a_mapping": Reason(
        "The document is not a mapping of keys to values.", "A manifest starts with 'version: 1'."
    ),
    "not_a_list": Reason(
        "An included tenant file is not a list of tenants.",
        "An included file holds a YAML list: each item starts with '- name: ...' (see `stcheck schema --tenants`).",
    ),
    # --- included tenant files (include:) --------------------------------------
    "include_no_match": Reason(
        "An include pattern matches no file.",
        "Patterns are relative to the manifest's directory (e.g. tenants/*.stcheck.yaml); fix the pattern or add the files.",
    ),
    "include_refused": Reason(
        "An include pattern or an included file is not read: absolute, '..', a symbolic link out of the repository, or not a regular file.",
        "Keep included files inside the manifest's repository, named relative to the manifest, without '..'.",
    ),
    "include_too_many": Reason(
        "A manifest includes more files or more bytes than stcheck reads.",
        "stcheck reads up to 10,000 included files and 256 MiB per manifest; split the fleet over several root manifests.",
    ),
    "include_nested": Reason(
        "An included file tries to include other files.",
        "Only the root manifest has 'include:'; list every tenant file there.",
    ),
    "duplicate_key": Reason(
        "A key appears twice in one mapping; YAML would silently keep the last.",
        "Remove or rename one of the two keys.",
    ),
    "yaml_trap": Reason(
        "A value YAML would read differently from what was written (octal, sexagesimal, ...).",
        "Quote the value, or write it without the leading zero.",
    ),
    "alias_expansion": Reason(
        "Anchors and aliases expand beyond the allowed size (an alias bomb).",
        "Write the values out, or use fewer nested aliases.",
    ),
    "too_deep": Reason(
        "The document nests deeper than any manifest needs.", "Flatten the structure."
    ),
    "unsupported_tag": Reason(
        "A YAML tag stcheck does not accept (e.g. !!python/object, !!binary).",
        "Remove the tag; a manifest holds plain values.",
    ),
    # --- schema ----------------------------------------------------------------
    "schema": Reason(
        "The manifest does not match the manifest v1 schema.",
        "See `stcheck schema` for the expected shape.",
    ),
    "unknown_key": Reason(
        "A key the manifest format does not define.", "Check the spelling against `stcheck schema`."
    ),
    "missing_key": Reason("A required key is missing.", "Add the key."),
    "wrong_type": Reason("A value has the wrong type.", "Write the type the schema expects."),
    "unknown_environment": Reason(
        "An environment other than integration or production.",
        "ServiceTitan has two API environments: integration (the sandbox) and production.",
    ),
    "host_in_manifest": Reason(
        "The manifest tries to set a host or URL.",
        "Delete it: hosts follow from the environment name, so a manifest edit cannot send credentials elsewhere.",
    ),
    "invalid_tenant_id": Reason(
        "A tenant ID that is not a positive 64-bit integer.",
        "Copy 'My Tenant ID' from Settings > Integrations > API Application Access.",
    ),
    "invalid_value": Reason(
        "A value outside what the schema allows.", "See the message for the allowed values."
    ),
    "unknown_scope_module": Reason(
        "A required scope names a module no ServiceTitan scope uses (Settings scopes are tn.stt.*, not tn.set.*).",
        "Write the scope as the developer portal and the token show it, e.g. tn.stt.businessunits:r.",
    ),
    # --- references and secrets -------------------------------------------------
    "not_a_reference": Reason(
        "A credential field that is not a SCHEME:REST reference.",
        "Write a reference such as env:NAME or file:PATH, never the value.",
    ),
    "unknown_scheme": Reason(
        "A reference whose scheme no loaded plugin provides.",
        "Use env: or file:, or install the plugin that provides the scheme (`stcheck plugins`).",
    ),
    "invalid_reference": Reason(
        "A reference whose rest is malformed for its scheme.",
        "See the scheme's syntax in `stcheck plugins`.",
    ),
    "leaked_secret": Reason(
        "A literal that looks like a credential (client ID/secret, app key, JWT, high-entropy string) is written in the manifest.",
        "Remove it, rotate the credential (it is in your git history), and reference it instead.",
    ),
    # --- uniqueness ---------------------------------------------------------------
    "duplicate_tenant": Reason("Two tenants share a name.", "Tenant names are unique slugs."),
    "duplicate_tenant_id": Reason(
        "Two entries of one environment share a tenant ID.",
        "Each ServiceTitan tenant appears once per environment.",
    ),
    "shared_client_reference": Reason(
        "Two tenants reference the same client credentials.",
        "Use one client pair per tenant, or declare the same enterprise_group on both (Enterprise Hub).",
    ),
    "same_reference_both_environments": Reason(
        "A tenant's integration and production entries reference the same credential.",
        "Integration and production have different client pairs; reference each separately.",
    ),
    # --- credentials --------------------------------------------------------------
    "unresolved_reference": Reason(
        "A reference that does not resolve in this run (variable unset, file missing).",
        "Provide the secret to this runner (CI secret, environment variable, file).",
    ),
    "reference_not_allowed": Reason(
        "A reference this runner refuses to resolve: a file outside the manifest's repository, a special file (/proc, /sys, /dev, a FIFO, a device), or an environment variable outside the operator's STCHECK_ENV_ALLOW / --allow-env policy.",
        "Keep secret files inside the repository (untracked) and reference them relative to the manifest; use variables the policy allows.",
    ),
    "unusable_value": Reason(
        "A reference resolves to a value with a NUL, line break or other control character inside; no credential has one, so it is not used (and not shown).",
        "Store the credential alone, on one line; a file referenced with file: holds only the secret.",
    ),
    "empty_value": Reason(
        "A reference that resolves to an empty value.", "Set the secret's value."
    ),
    "whitespace": Reason(
        "A resolved value with leading or trailing whitespace (stripped before use).",
        "Remove the whitespace from the stored secret; it is a common cause of invalid_client.",
    ),
    "insecure_permissions": Reason(
        "A secret file readable by group or others.", "chmod 600 the file."
    ),
    # --- network ------------------------------------------------------------------
    "dns_error": Reason(
        "A ServiceTitan host does not resolve.", "Check the runner's DNS and network access."
    ),
    "private_address": Reason(
        "A ServiceTitan host resolves to a loopback or private address.",
        "Expected with --resolve or a gateway; otherwise check for DNS hijacking or a stale hosts file.",
    ),
    "timeout": Reason(
        "No complete answer (connect, TLS, headers and body) within the wall-clock --timeout.",
        "Retry; raise --timeout; check the runner's network.",
    ),
    "connection_error": Reason(
        "The connection failed (refused, reset, unreachable, proxy).",
        "Check the runner's network, proxy settings (HTTPS_PROXY/NO_PROXY) and --resolve.",
    ),
    "tls_error": Reason(
        "The TLS handshake or certificate verification failed.",
        "Check --ca-bundle / REQUESTS_CA_BUNDLE, or a TLS-intercepting proxy.",
    ),
    "redirect_blocked": Reason(
        "The server answered with a redirect, which stcheck never follows.",
        "A redirect would carry credentials elsewhere; check proxies and --resolve.",
    ),
    "rate_limited": Reason(
        "Still answered 429 after the allowed retries.", "Retry later; lower --concurrency."
    ),
    "server_error": Reason(
        "The server answered 5xx (often an HTML page).",
        "Transient on ServiceTitan's side: retry later.",
    ),
    "malformed_response": Reason(
        "The answer was not the JSON stcheck expects.",
        "Retry; if it persists, a proxy or gateway may be answering instead of ServiceTitan.",
    ),
    # --- token endpoint (OAuth 2.0 error names) -------------------------------------
    "invalid_client": Reason(
        "The token endpoint rejected the client pair.",
        "Wrong ID or secret, whitespace in a secret, a deactivated secret, or the other environment's pair.",
    ),
    "unauthorized_client": Reason(
        "The client is not allowed the client-credentials grant.",
        "Check the app's configuration in the developer portal.",
    ),
    "invalid_scope": Reason(
        "The token endpoint rejected the requested scope.",
        "Check the app's scopes in the developer portal.",
    ),
    "invalid_request": Reason(
        "The token endpoint rejected the request's form.",
        "An Enterprise Hub pair needs enterprise_group on its entries (stcheck then sends tenant=<tenant_id>); otherwise a proxy rewrote the request, or a bug in stcheck: please report it.",
    ),
    "unsupported_grant_type": Reason(
        "The token endpoint refused the client-credentials grant.",
        "Likely a proxy or wrong host; please report it.",
    ),
    "oauth_error": Reason(
        "The token endpoint answered an OAuth error name stcheck does not know (could not tell: it may be throttling, whose answer is undocumented).",
        "Retry later; if it persists, see the message for the error name.",
    ),
    "token_rejected": Reason(
        "The token endpoint or API answered 401.",
        "The pair or token was rejected: check the client pair and the app key (ST-App-Key).",
    ),
    "bad_token_type": Reason(
        "The token is not a Bearer token.", "A proxy or wrong host may be answering; retry."
    ),
    "unexpected_expiry": Reason(
        "The token's expires_in is not the documented 900 s.",
        "Advisory: cache tokens for expires_in, whatever it is.",
    ),
    "missing_scopes": Reason(
        "The token lacks scopes that app.required_scopes lists.",
        "Edit the app's scopes, then have the tenant admin accept the new version.",
    ),
    # --- API probe ----------------------------------------------------------------
    "forbidden": Reason(
        "The probe answered 403 although the token works.",
        "Most likely first: tenant_id is not this client pair's tenant (copy 'My Tenant ID' from the tenant's Settings > Integrations > API Application Access); the app lacks the probe's scope (add it, or set app.probe to a resource the app can read); or the tenant's admin has not accepted the app's new scope version (Upgrade to New Version).",
    ),
    "probe_scope_not_granted": Reason(
        "The probe answered 403 and the token's scopes lack the scope the probe needs, so the probe could not tell whether app key, token and tenant work together.",
        "Set app.probe to a low-PII resource whose scope the app has (the message names one when stcheck knows it), or add the scope to the app and have the tenant's admin accept the new version.",
    ),
    "probe_not_found": Reason(
        "The probe answered 404.", "Check app.probe (MODULE/RESOURCE) against the API reference."
    ),
    "bad_request": Reason("The probe answered 400.", "Check app.probe and the tenant ID."),
    "http_error": Reason(
        "The server answered an unexpected HTTP status.", "See the message for the status."
    ),
    # --- run ----------------------------------------------------------------------
    "deselected": Reason(
        "Not run: deselected with --select/--skip/--tenant/--env.",
        "Change the selection to run it.",
    ),
    "offline": Reason(
        "Not run: needs the network, and this run is offline.",
        "Run `stcheck check` where the network and secrets are available.",
    ),
    "not_applicable": Reason("Not run: does not apply to this entry.", "Nothing to do."),
    "depends_on_failure": Reason(
        "Not run: a check it depends on did not pass.",
        "Fix the failure reported earlier for this entry.",
    ),
    "plugin_error": Reason(
        "A plugin failed to load or misbehaved.",
        "Update or uninstall the plugin named in the message; the rest of the run went on.",
    ),
    "check_crashed": Reason(
        "A check raised an unexpected exception.",
        "Report it to the check's author; the rest of the run went on.",
    ),
    "nothing_checked": Reason(
        "No selected check reached a verdict: every result was a skip, or there was none;"
        " or an online run checked no tenant entry (no tenants, or --tenant/--env/"
        "--exclude-tenant selected none: the app key alone is no tenant)."
        " A gate that tested nothing is not ok (exit 1).",
        "Widen --select/--skip/--tenant/--env, or run online, so that something is checked;"
        " add the tenants to the manifest.",
    ),
    "deadline_exceeded": Reason(
        "The run's --deadline passed before this check finished; it was abandoned (exit 1).",
        "Raise --deadline (or STCHECK_DEADLINE), or find what hangs: a slow host, a plugin"
        " check or reference scheme that does not return.",
    ),
    "not_listed": Reason(
        "More problems of this kind than stcheck lists: the rest are counted, not shown.",
        "Fix the problems listed, then run stcheck again to see the next ones.",
    ),
    # --- waivers ------------------------------------------------------------------
    "waiver_invalid": Reason(
        "A waiver that names a check, tenant, environment or reason word this run does not know, has a blank `because` or `by`, or an `until` that is not a real date; it is not applied.",
        "Fix the waiver as the message says (`stcheck plugins` lists the check ids); see docs/waivers.md.",
    ),
    "waiver_not_allowed": Reason(
        "A waiver for what no waiver may excuse: the schema and references checks (manifest integrity, a secret written into the manifest), the golive verdict itself (waive the result that blocks it), and the leaked_secret, not_a_reference, host_in_manifest, reference_not_allowed, deadline_exceeded and nothing_checked findings; it is not applied.",
        "Fix the finding instead: remove the secret (and rotate it), write a reference, remove the host.",
    ),
    "waiver_expired": Reason(
        "A waiver whose `until` date has passed: it no longer applies, and the results it excused count again.",
        "Fix what it excused and delete the waiver, or, if it is still acceptable, review it again and move `until`.",
    ),
    "waiver_unused": Reason(
        "A waiver that excused nothing in a run where its check ran for its tenant and environment (the problem is fixed, or the waiver does not match).",
        "Delete the waiver, or correct its check, tenant, environment or reason.",
    ),
    "waiver_too_long": Reason(
        "A waiver whose `until` is more than a year (366 days) ahead: waivers are meant to expire and be reviewed again.",
        "Set `until` to a date within a year; renew the waiver when it expires if it is still needed.",
    ),
    # --- go-live readiness ----------------------------------------------------------
    "not_ready": Reason(
        "The tenant is not ready for production.",
        "Resolve the blocking items of its readiness report.",
    ),
    "readiness_unknown": Reason(
        "Not every blocking item could be checked (offline, or deselected).",
        "Run `stcheck report` online for a full verdict.",
    ),
    "not_planned": Reason(
        "The tenant is not going live: it has no production entry, or `go_live.planned` is"
        " false. Counted apart; never fails `report --strict`.",
        "To plan its go-live, add `environments.production` (and remove `go_live.planned: false`).",
    ),
}


def hint_for(reason: str | None) -> str | None:
    """The remediation hint for a reason word, or None."""
    if reason is None:
        return None
    known = REASONS.get(reason)
    return known.hint if known else None
