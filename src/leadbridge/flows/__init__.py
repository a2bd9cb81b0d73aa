"""The integrations between Leeloo, Neiros and Dialog: four flows, a ledger and their configuration.

See docs/flows.md. Run them with ``leadbridge flows run NAME|--all`` or from Python::

    from leadbridge.flows import load_config, run_flows
    reports = run_flows(load_config("leadbridge.toml"), ["call-leads"])
"""

from leadbridge.flows import deal_index as deal_index  # registers the Neiros deal index (lb_deal_index)
from leadbridge.flows import events as events  # registers the ledger's event table (lb_event)
from leadbridge.flows.config import Config, ConfigError, load_config, parse_config
from leadbridge.flows.runner import run_flows

__all__ = ["Config", "ConfigError", "load_config", "parse_config", "run_flows"]
