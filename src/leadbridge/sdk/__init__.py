"""Typed sync and async clients of the Leeloo.ai, Neiros and Dialog APIs (httpx + pydantic only)."""

from leadbridge.sdk._http import RateLimit, RetryPolicy
from leadbridge.sdk._paging import NumberedPage, Page
from leadbridge.sdk.dialog import AsyncDialog, Dialog
from leadbridge.sdk.leeloo import AsyncLeeloo, Leeloo
from leadbridge.sdk.neiros import AsyncNeiros, Neiros

__all__ = ["AsyncDialog", "AsyncLeeloo", "AsyncNeiros", "Dialog", "Leeloo", "Neiros", "NumberedPage", "Page",
           "RateLimit", "RetryPolicy"]
