"""Timeouts of the tests' own HTTP clients.

httpx waits 5 s by default, which a loaded 2-core machine can exceed on a big page or a
first request. No test is about speed (bench/ measures that), so every client a test makes
to talk to a sandbox waits this long instead (``timeout=TIMEOUT``); ``test_http_timeouts.py``
holds the tests to it.
"""

from __future__ import annotations

import httpx

TIMEOUT = httpx.Timeout(60.0)
