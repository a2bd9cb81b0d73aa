"""Export of the three platforms into a warehouse with dlt (``pip install 'leadbridge[export]'``).

The sources are plain dlt sources, usable in any dlt pipeline::

    import dlt
    from leadbridge.export import leeloo_source

    pipeline = dlt.pipeline("leeloo", destination="duckdb", dataset_name="leeloo")
    pipeline.run(leeloo_source(token="…"))
"""

from leadbridge.export.dialog import Campaign, dialog_source, ledger_campaigns
from leadbridge.export.leeloo import leeloo_source
from leadbridge.export.neiros import neiros_source

__all__ = ["Campaign", "dialog_source", "ledger_campaigns", "leeloo_source", "neiros_source"]
