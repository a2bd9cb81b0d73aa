"""``leadbridge demo``: the four flows against an embedded sandbox, start to finish.

The demo serves an in-memory sandbox on a loopback port, gives its Leeloo account the
tags the demo configuration names (tags are made in Leeloo's interface; the API has no
call for it), writes a ``leadbridge.toml`` pointing at the sandbox, runs the flows, moves
the sandbox clock forward so the Dialog campaigns place their calls, runs call-results
until the campaigns close, and prints what happened on each platform.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from sqlalchemy import select

from leadbridge.flows.config import Config, load_config
from leadbridge.flows.ledger import Ledger
from leadbridge.flows.runner import render_reports, render_status, run_flows

DEMO_TAGS = ("в обзвоне", "дозвонились", "не дозвонились", "встреча назначена")
DEMO_PEOPLE = 300
CLOCK_STEP_SECONDS = 86_400
MAX_CLOCK_STEPS = 6


def demo_config(base_url: str, ledger_url: str, leadgentool_id: str, template_id: str | None) -> str:
    """The demo's leadbridge.toml (secrets inline: these are the sandbox's public demo credentials)."""
    template = f'template_id = "{template_id}"\n' if template_id else ""
    return f"""\
# leadbridge demo configuration: every platform is the embedded sandbox at {base_url}
[ledger]
url = "{ledger_url}"

[leeloo]
token = "demo-leeloo-token"
base_url = "{base_url}"
rate_limit = false  # the sandbox sets no limit; leave this out against the real Leeloo (300 a minute)

[neiros]
email = "demo@neiros.local"
password = "demo"
base_url = "{base_url}"

[dialog]
login = "demo"
password = "demo"
base_url = "{base_url}"

[phones]
default_region = "RU"

[flows.call-leads]
tags = ["горячий", "vip"]
last_message_within = "3650d"
queued_tag = "в обзвоне"
project_id = 1
start_block_id = 10
phone_id = 5
campaign_name = "Обзвон горячих лидов {{date}}"
start_time = "00:00"
end_time = "23:59"
attempts = 2
interval_minutes = 30
batch_size = 25

[flows.call-leads.add_data]
name = "name"
person_id = "id"
phone = "phone"

[flows.call-results]
scenario_id = 951
goal_tag = "встреча назначена"
{template}template_outcomes = ["answered"]

[flows.call-results.outcomes.answered]
status = "SUCCESS"
tags = ["дозвонились"]

[flows.call-results.outcomes.no_answer]
status = "NO_ANSWER"
tags = ["не дозвонились"]
final = false

[flows.call-results.outcomes.busy]
status = "NO_ANSWER"
tags = ["не дозвонились"]
final = false

[flows.call-results.outcomes.voicemail]
status = "CLOSED_BY_SYSTEM"
tags = ["не дозвонились"]
final = false

[flows.deals-to-leeloo]
window = "365d"
leadgentool_id = "{leadgentool_id}"
person_name = "Клиент Neiros {{phone}}"

[flows.revenue-to-neiros]
paid_statuses = ["RESOLVED", "SUCCESS"]
attribution = "last"
window = "3650d"

[schedule]
every = "5m"
"""


def _prepare_sandbox(sandbox: object) -> tuple[str, str | None]:
    """Add the demo tags to the demo account; return a lead-generation tool and a template id."""
    from leadbridge.sandbox import schema
    from leadbridge.sandbox.seed import TENANTS
    from leadbridge.sandbox.state import Sandbox
    from leadbridge.sandbox.wire import new_oid

    assert isinstance(sandbox, Sandbox)
    company = TENANTS[0].company_id
    with sandbox.write(company) as session:
        existing = set(session.scalars(select(schema.Tag.name).where(schema.Tag.company_id == company)))
        for name in DEMO_TAGS:
            if name not in existing:
                session.add(schema.Tag(id=new_oid(), company_id=company, name=name))
        leadgentool = session.scalars(select(schema.Leadgentool.id).where(
            schema.Leadgentool.company_id == company).order_by(schema.Leadgentool.id)).first()
        template = session.scalars(select(schema.Template.id).where(
            schema.Template.company_id == company).order_by(schema.Template.id)).first()
    assert leadgentool is not None
    return leadgentool, template


def run_demo(console: Console | None = None, *, people: int = DEMO_PEOPLE, directory: Path | None = None,
             ui: bool = False) -> int:
    """Run the demo; returns a process exit code (0 when every flow ran).

    ``directory`` keeps the demo's leadbridge.toml and ledger there; ``ui`` keeps the sandbox
    and the flows dashboard serving after the demo, until Ctrl-C.
    """
    from leadbridge.sandbox.server import serve_in_thread
    from leadbridge.sandbox.state import MEMORY_URL, Sandbox

    console = console or Console()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="leadbridge-demo-") as scratch:
        folder = directory or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        with console.status(f"Starting the sandbox ({people} demo people)…"):
            sandbox = Sandbox(MEMORY_URL, seed=1, people=people)
            running = serve_in_thread(sandbox)
            server = running.__enter__()
        try:
            leadgentool, template = _prepare_sandbox(server.sandbox)
            config_file = folder / "leadbridge.toml"
            ledger_file = folder / "ledger.sqlite3"
            config_file.write_text(demo_config(server.url, f"sqlite:///{ledger_file}", leadgentool, template),
                                   encoding="utf-8")
            console.print(f"[bold]leadbridge demo[/]: sandbox on {server.url}, configuration {config_file}")
            config = load_config(config_file)
            failures = 0

            console.rule("1. call-leads, deals-to-leeloo, revenue-to-neiros")
            reports = run_flows(config, ["call-leads", "deals-to-leeloo", "revenue-to-neiros"], console=console)
            render_reports(console, reports)
            failures += sum(r.counts["stopped by an error"] for r in reports)

            console.rule("2. the campaigns call (sandbox clock moves forward a day at a time); call-results")
            with httpx.Client(base_url=server.url, timeout=30) as control:
                for step in range(1, MAX_CLOCK_STEPS + 1):
                    now = control.post("/_sandbox/clock/advance", json={"seconds": CLOCK_STEP_SECONDS}).json()["now"]
                    reports = run_flows(config, ["call-results"], console=console)
                    still = reports[0].counts["campaigns still running"]
                    console.print(f"sandbox clock {now}: {reports[0].counts['new dialog results']} new dialog "
                                  f"results, {reports[0].counts['campaigns closed']} campaigns closed, "
                                  f"{still} still running")
                    render_reports(console, reports)
                    failures += reports[0].counts["stopped by an error"]
                    if not still:
                        break
                    console.print(f"(step {step} of at most {MAX_CLOCK_STEPS})", style="dim")

            console.rule("3. run again: nothing is done twice")
            reports = run_flows(config, config.enabled_flows(), console=console)
            render_reports(console, reports)

            console.rule("4. the ledger")
            with Ledger(config.ledger.url) as ledger:
                render_status(console, ledger)
            _print_platform_effects(console, server.url)
            _export_demo(console, config, folder)
            where = str(config_file) if directory else f"{config_file.name} (`leadbridge demo --keep DIR` keeps it)"
            console.print(f"Done in {time.monotonic() - started:.1f} s. Try it on your own accounts: copy "
                          f"{where}, see docs/flows.md, then `leadbridge flows run --all`.")
            if ui:
                _serve_consoles(console, server.url, config.ledger.url, config_file)
            return 1 if failures else 0
        finally:
            running.__exit__(None, None, None)


def _export_demo(console: Console, config: Config, folder: Path) -> None:
    """The demo's ending: the three platforms in one DuckDB file, and the funnel read from it."""
    try:
        from leadbridge.export.demo import export_and_report
    except ImportError:  # the export extra is not installed
        console.print("(pip install 'leadbridge[export]' to end with an export into DuckDB and the funnel)")
        return
    console.rule("5. export into DuckDB, and the end-to-end funnel")
    export_and_report(config, console, folder)


def _print_platform_effects(console: Console, base_url: str) -> None:
    """Count, from the sandbox's request log, the writes the flows made on each platform."""
    from rich.table import Table

    with httpx.Client(base_url=base_url, timeout=30) as control:
        log = control.get("/_sandbox/requests", params={"limit": 100_000}).json()["data"]
    writes: dict[tuple[str, str], int] = {}
    for entry in log:
        if entry["method"] in ("POST", "PUT") and entry["status"] < 400 and "login" not in entry["path"] \
                and "report" not in entry["path"]:
            path = "/".join("{id}" if part.isdigit() or len(part) >= 20 else part for part in entry["path"].split("/"))
            key = (entry["api"], f"{entry['method']} {path}")
            writes[key] = writes.get(key, 0) + 1
    table = Table(title="Changes made on the platforms (from the sandbox's request log)", title_justify="left")
    table.add_column("platform", style="bold")
    table.add_column("call")
    table.add_column("count", justify="right")
    for (api, call), count in sorted(writes.items()):
        table.add_row(api, call, f"{count:,}")
    console.print(table)


def _serve_consoles(console: Console, sandbox_url: str, ledger_url: str, config_file: Path) -> None:
    """Keep the sandbox serving and serve the flows dashboard beside it until Ctrl-C."""
    from leadbridge.console.flows_ui import create_dashboard
    from leadbridge.sandbox.server import serve_app_in_thread

    with serve_app_in_thread(create_dashboard(ledger_url, title="демо")) as dashboard_url:
        console.print(f"[bold]Sandbox console:[/] {sandbox_url}/_sandbox/ui")
        console.print(f"[bold]Flows dashboard:[/] {dashboard_url}/")
        console.print(f"Configuration: {config_file}. Ctrl-C stops both.", style="dim")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            console.print("stopped")
