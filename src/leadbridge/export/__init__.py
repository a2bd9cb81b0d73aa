"""Export of the three platforms into a warehouse with dlt (``pip install 'leadbridge[export]'``).

The sources are plain dlt sources, usable in any dlt pipeline::

    import dlt
    from leadbridge.export import duckdb_destination, leeloo_source

    pipeline = dlt.pipeline("leeloo", destination=duckdb_destination("leeloo.duckdb"), dataset_name="leeloo")
    pipeline.run(leeloo_source(token="…"))

``duckdb_destination`` is dlt's DuckDB with the settings ``leadbridge export`` loads with
(bounded memory); any other destination works too.
"""

from leadbridge.export.dialog import Campaign, dialog_source, ledger_campaigns
from leadbridge.export.leeloo import leeloo_source
from leadbridge.export.neiros import neiros_source
from leadbridge.export.warehouse import duckdb_destination

__all__ = ["Campaign", "dialog_source", "duckdb_destination", "ledger_campaigns", "leeloo_source", "neiros_source"]
