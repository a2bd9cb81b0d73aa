"""leadbridge: sandbox, SDK and integration flows for Leeloo.ai, Neiros and Dialog.

Importing the package loads only the SDK (httpx + pydantic); the sandbox and the flows
are imported from their own modules and need their extras.
"""

import logging
from importlib.metadata import PackageNotFoundError, version

from leadbridge import errors
from leadbridge.sdk import AsyncDialog, AsyncLeeloo, AsyncNeiros, Dialog, Leeloo, Neiros

try:  # one source for the version: the installed package's metadata (pyproject.toml)
    __version__ = version("leadbridge")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

# A library never configures logging for its application; without a handler of its own the
# records would reach Python's last-resort handler and be printed to stderr.
logging.getLogger("leadbridge").addHandler(logging.NullHandler())

__all__ = ["AsyncDialog", "AsyncLeeloo", "AsyncNeiros", "Dialog", "Leeloo", "Neiros", "__version__", "errors"]
