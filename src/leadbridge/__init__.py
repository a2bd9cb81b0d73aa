"""leadbridge: sandbox, SDK and integration flows for Leeloo.ai, Neiros and Dialog.

Importing the package loads only the SDK (httpx + pydantic); the sandbox and the flows
are imported from their own modules and need their extras.
"""

from leadbridge import errors
from leadbridge.sdk import AsyncDialog, AsyncLeeloo, AsyncNeiros, Dialog, Leeloo, Neiros

__all__ = ["AsyncDialog", "AsyncLeeloo", "AsyncNeiros", "Dialog", "Leeloo", "Neiros", "errors"]
