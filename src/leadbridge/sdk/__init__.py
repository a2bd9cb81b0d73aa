"""Typed sync and async clients of the Leeloo.ai, Neiros and Dialog APIs and of the sandbox's control
API (httpx + pydantic only)."""

from leadbridge.sdk._http import RateLimit, RetryPolicy
from leadbridge.sdk._paging import NumberedPage, Page
from leadbridge.sdk.dialog import AsyncDialog, Dialog
from leadbridge.sdk.leeloo import AsyncLeeloo, Leeloo
from leadbridge.sdk.neiros import AsyncNeiros, Neiros
from leadbridge.sdk.sandbox import AsyncSandboxControl, SandboxControl

__all__ = ["AsyncDialog", "AsyncLeeloo", "AsyncNeiros", "AsyncSandboxControl", "Dialog", "Leeloo", "Neiros",
           "NumberedPage", "Page", "RateLimit", "RetryPolicy", "SandboxControl"]
