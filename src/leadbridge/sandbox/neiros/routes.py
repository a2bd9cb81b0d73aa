"""Neiros user API over HTTP (Laravel-style: Bearer Sanctum tokens, ``{"message": …}`` errors)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Neiros"])
