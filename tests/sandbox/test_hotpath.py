"""The fast lane answers exactly as FastAPI does.

A repeated ``offset`` (same value) sends a request through FastAPI instead of the fast
lane without changing its meaning, so each pair below must get identical answers.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, Request
from sqlalchemy import select

from http_clients import TIMEOUT
from leadbridge.contract.leeloo import ENDPOINTS
from leadbridge.sandbox import schema
from leadbridge.sandbox.dialog.routes import router as dialog_router
from leadbridge.sandbox.hotpath import PREFIX, DirectRoute, direct_routes, lookup_paging, paging, static_routes
from leadbridge.sandbox.leeloo.backend import people as people_backend
from leadbridge.sandbox.leeloo.routes import ROUTERS, api
from leadbridge.sandbox.neiros.routes import router as neiros_router
from leadbridge.sandbox.server import RunningSandbox


def both_ways(client: httpx.Client, path: str, limit: int, offset: int) -> tuple[httpx.Response, httpx.Response]:
    fast = client.get(f"{path}?limit={limit}&offset={offset}")
    routed = client.get(f"{path}?limit={limit}&offset={offset}&offset={offset}")
    return fast, routed


@pytest.mark.parametrize(("limit", "offset"), [(5, 3), (0, 0), (7, 100_000)])
def test_people_page_identical(leeloo: httpx.Client, limit: int, offset: int) -> None:
    fast, routed = both_ways(leeloo, "/api/v2/people", limit, offset)
    assert fast.status_code == routed.status_code == 200
    assert fast.json() == routed.json()
    assert len(fast.json()["data"]) == (limit if offset < 300 else 0)


def test_chat_messages_identical(leeloo: httpx.Client) -> None:
    channel = leeloo.get("/api/v2/people", params={"limit": 1}).json()["data"][0]["accounts"][0]["account_id"]
    fast, routed = both_ways(leeloo, f"/api/v2/communication-channels/{channel}/chat-messages", 3, 1)
    assert fast.status_code == routed.status_code == 200
    assert fast.json() == routed.json()
    missing, missing_routed = both_ways(leeloo, "/api/v2/communication-channels/" + "0" * 24 + "/chat-messages",
                                        3, 0)
    assert missing.status_code == missing_routed.status_code == 404
    assert missing.json() == missing_routed.json()


def test_auth_errors_identical(anon: httpx.Client) -> None:
    for headers in ({}, {"X-Leeloo-AuthToken": "wrong"}):
        fast = anon.get("/api/v2/people", headers=headers)
        routed = anon.get("/api/v2/people?offset=0&offset=0", headers=headers)
        assert fast.status_code == routed.status_code == 401
        assert fast.json() == routed.json()


@pytest.mark.parametrize(("query", "expected"), [
    (b"", ({}, None)),
    (b"limit=20", ({"limit": 20}, None)),
    (b"limit=5&offset=10", ({"limit": 5, "offset": 10}, None)),
    (b"limit=1001", ({"limit": 100}, None)),  # above the page cap: 100 are served
    (b"limit=1000000000", None),  # over the accepted maximum: FastAPI answers 422
    (b"authToken=abc&limit=3", ({"limit": 3}, "abc")),
    (b"authToken=a%20b", None),  # an escaped token is decoded by FastAPI
    (b"authToken=a&authToken=b", None),
    (b"limit=-1", None),
    (b"limit=abc", None),
    (b"limit=1&limit=2", None),
    (b"filter[tags]=vip", None),
    (b"offset=1234567890", None),
])
def test_only_plain_paging_takes_the_fast_lane(query: bytes,
                                               expected: tuple[dict[str, int], str | None] | None) -> None:
    assert paging(query, 999_999_999, 100) == expected


@pytest.mark.parametrize(("query", "expected"), [
    (b"filter%5Bphone%5D=%2B79001234567", ({"phone": "+79001234567"}, None)),
    (b"filter[phone]=+79001234567&limit=5", ({"limit": 5, "phone": " 79001234567"}, None)),  # "+" is a space
    (b"filter[email]=a%40b.ru&authToken=t", ({"email": "a@b.ru"}, "t")),
    (b"filter[phone]=", ({"phone": ""}, None)),
    (b"filter[phone]=1&filter[phone]=2", None),  # repeated: FastAPI takes the last
    (b"filter[phone]=1&filter[email]=a", None),
    (b"filter[phone]=1&filter[tags]=vip", None),
    (b"filter[phone]=1&limit=-1", None),
    (b"limit=5", None),  # no lookup: the plain page's own lane
])
def test_a_phone_or_email_lookup_takes_the_fast_lane(query: bytes,
                                                     expected: tuple[dict[str, object], str | None] | None) -> None:
    assert lookup_paging(query, 999_999_999, 100) == expected


def test_a_phone_or_email_lookup_answers_alike_in_both_lanes(leeloo: httpx.Client) -> None:
    person = next(p for p in leeloo.get("/api/v2/people", params={"limit": 50}).json()["data"]
                  if p["phone"] != "NOT_DEFINED" and p["email"] != "NOT_DEFINED")
    for name, value in (("phone", person["phone"]), ("email", person["email"]), ("phone", "+70000000000"),
                        ("phone", "NOT_DEFINED"), ("email", "")):
        for page in ({}, {"limit": 1, "offset": 1}):
            params = {f"filter[{name}]": value, **page}
            fast = leeloo.get("/api/v2/people", params=params)
            routed = leeloo.get("/api/v2/people", params={**params, "filter[tags]": ""})  # FastAPI's lane
            assert fast.status_code == routed.status_code == 200, (fast.text, routed.text)
            assert fast.json() == routed.json(), params
    found = leeloo.get("/api/v2/people", params={"filter[phone]": person["phone"]}).json()
    assert person["id"] in [p["id"] for p in found["data"]] and found["meta"]["totalCount"] >= 1


@pytest.mark.parametrize("limit", [100, 101, 5000])
def test_page_cap_identical_in_both_lanes(leeloo: httpx.Client, limit: int) -> None:
    fast, routed = both_ways(leeloo, "/api/v2/people", limit, 0)
    assert fast.status_code == routed.status_code == 200
    assert fast.json() == routed.json()
    assert fast.json()["meta"]["limit"] == 100 and len(fast.json()["data"]) == 100


def test_auth_token_query_parameter_in_both_lanes(live: RunningSandbox, anon: httpx.Client) -> None:
    token = live.credentials.leeloo_token
    fast = anon.get("/api/v2/people", params={"authToken": token, "limit": 2})
    routed = anon.get("/api/v2/people", params={"authToken": token, "limit": 2, "offset": [0, 0]})
    assert fast.status_code == routed.status_code == 200
    assert fast.json() == routed.json() and len(fast.json()["data"]) == 2
    channel = fast.json()["data"][0]["accounts"][0]["account_id"]
    sent = anon.post("/api/v2/messages/send-message", params={"authToken": token},
                     json={"account_id": channel, "text": "sent with the token in the query"})
    assert sent.status_code == 200, sent.text
    history = anon.get(f"/api/v2/communication-channels/{channel}/chat-messages", params={"authToken": token})
    assert history.json()["data"][0]["text"] == "sent with the token in the query"
    for params in ({"authToken": "wrong"}, {"authToken": "wrong", "offset": [0, 0]}):
        refused = anon.get("/api/v2/people", params=params)
        assert refused.status_code == 401
        assert refused.json()["error"] == {"fields": {"authToken": "INVALID"}, "code": "UNAUTHORIZED"}


def test_cached_pages_follow_writes(leeloo: httpx.Client, other_leeloo: httpx.Client) -> None:
    """A page served from memory is dropped by the company's next write, and never crosses tenants."""
    first = leeloo.get("/api/v2/people?limit=3&offset=1").json()["data"][0]
    again = leeloo.get("/api/v2/people?limit=3&offset=1").json()["data"][0]
    assert again == first
    tags = leeloo.get("/api/v2/tags").json()["data"]
    new_tag = next(tag for tag in tags if tag["name"] not in first["tags"])
    assert leeloo.put(f"/api/v2/people/{first['id']}/add-tag", data={"tag_id": new_tag["id"]}).status_code == 200
    after = leeloo.get("/api/v2/people?limit=3&offset=1").json()["data"][0]
    assert after["id"] == first["id"] and new_tag["name"] in after["tags"]
    assert leeloo.put(f"/api/v2/people/{first['id']}/remove-tag", data={"tag_id": new_tag["id"]}).status_code == 200
    assert new_tag["name"] not in leeloo.get("/api/v2/people?limit=3&offset=1").json()["data"][0]["tags"]

    channel = first["accounts"][0]["account_id"]
    history = f"/api/v2/communication-channels/{channel}/chat-messages?limit=1"
    before = leeloo.get(history).json()
    sent = leeloo.post("/api/v2/messages/send-message", json={"account_id": channel, "text": "cache check"})
    assert sent.status_code == 200
    now = leeloo.get(history).json()
    assert now["data"][0]["text"] == "cache check"
    assert now["meta"]["totalCount"] == before["meta"]["totalCount"] + 1

    foreign = other_leeloo.get("/api/v2/people?limit=3&offset=1").json()["data"]
    assert {p["id"] for p in foreign}.isdisjoint({first["id"]})
    assert other_leeloo.get(history).status_code == 404


def test_deep_pages_match_a_plain_offset_walk(fresh: RunningSandbox) -> None:
    """Pages far into the list start from a remembered anchor: same records as one long read,
    also after people were added past the anchors read before."""
    from leeloo_support import DEMO_COMPANY

    from leadbridge.sandbox.leeloo.backend.people import ANCHOR_STEP

    def add_people(batch: int, count: int) -> None:
        created = client.post("/api/v2/people/sms", json={
            "data": [{"name": f"Lead {batch}-{n}", "phone": f"+7900{batch:03d}{n:04d}"} for n in range(count)],
            "connection_id": _sms_connection(client), "leadgentool_id": _leadgentool(client)})
        assert created.status_code == 200, created.text

    def assert_pages_match_the_table(offsets: list[int]) -> None:
        with fresh.sandbox.read() as session:
            everything = list(session.scalars(select(schema.Person.id).where(schema.Person.company_id == DEMO_COMPANY)
                                              .order_by(schema.Person.id)))
        assert client.get("/api/v2/people?limit=1").json()["meta"]["totalCount"] == len(everything)
        for offset in offsets:
            page = client.get(f"/api/v2/people?limit=10&offset={offset}").json()["data"]
            assert [p["id"] for p in page] == everything[offset:offset + 10], offset

    headers = {"X-Leeloo-AuthToken": fresh.credentials.leeloo_token}
    with httpx.Client(base_url=fresh.url, headers=headers, timeout=TIMEOUT) as client:
        for batch in range(2):
            add_people(batch, ANCHOR_STEP)
        total = client.get("/api/v2/people?limit=1").json()["meta"]["totalCount"]
        assert total > 2 * ANCHOR_STEP
        assert_pages_match_the_table([ANCHOR_STEP - 1, ANCHOR_STEP, ANCHOR_STEP + 7, 2 * ANCHOR_STEP + 3,
                                      total - 5, total])
        add_people(2, 2 * ANCHOR_STEP + 10)  # kept anchors; the pages past them find theirs
        assert_pages_match_the_table([ANCHOR_STEP + 7, total - 5, total + 3, 3 * ANCHOR_STEP + 1,
                                      total + 2 * ANCHOR_STEP + 5, total + 2 * ANCHOR_STEP + 10])


CARD_KEYS = ("id", "name", "email", "phone", "tags", "accounts")  # a page's record and the card both show


@pytest.mark.parametrize("offset", [0, 150])
def test_page_records_match_their_cards(leeloo: httpx.Client, other_leeloo: httpx.Client, offset: int) -> None:
    """A page reads its people's accounts and tags as ranges of ids, in which other companies'
    people lie too: each record shows what its card shows, and nothing of another company."""
    page = leeloo.get(f"/api/v2/people?limit=20&offset={offset}").json()["data"]
    assert len(page) == 20 and any(person["tags"] for person in page)
    for person in page:
        card = leeloo.get(f"/api/v2/people/{person['id']}").json()["data"]
        assert {key: person[key] for key in CARD_KEYS} == {key: card[key] for key in CARD_KEYS}
    foreign = {p["id"] for p in other_leeloo.get("/api/v2/people?limit=100").json()["data"]}
    assert foreign and min(foreign) < page[-1]["id"] and max(foreign) > page[0]["id"]


def _sms_connection(client: httpx.Client) -> str:
    connections = client.get("/api/v2/connections").json()["data"]["connections"]
    return str(next(c["id"] for c in connections if c["type"] == "sms"))


def _leadgentool(client: httpx.Client) -> str:
    tunnel = client.get("/api/v2/tunnels?limit=1").json()["data"][0]
    linked = client.get(f"/api/v2/tunnels/{tunnel['id']}?include=leadgentools").json()["linked"]
    return str(linked["leadgentools"][0]["id"])


def test_a_write_drops_only_what_it_changed(leeloo: httpx.Client, live: RunningSandbox) -> None:
    """A message sent changes pages (lastMessageTime) but not the set or order of people: the
    deep-page anchors and the people count stay; a person added (after every other in id
    order) keeps the anchors and adds to the count, and every page read afterwards shows the
    writes."""
    from leeloo_support import DEMO_COMPANY, create_person, every_record

    cache = live.sandbox.cache(DEMO_COMPANY)
    deep = leeloo.get("/api/v2/people?limit=2&offset=1000").json()
    total = deep["meta"]["totalCount"]
    anchors = cache.get("people-anchors")
    assert anchors is not None and cache.get(("people", people_backend.NO_FILTER)) == total
    first = leeloo.get("/api/v2/people?limit=1").json()["data"][0]
    account = first["accounts"][0]["account_id"]

    sent = leeloo.post("/api/v2/messages/send-message", json={"account_id": account, "text": "anchors stay"})
    assert sent.status_code == 200
    assert cache.get("people-anchors") is anchors and cache.get(("people", people_backend.NO_FILTER)) == total
    after_send = leeloo.get("/api/v2/people?limit=1").json()["data"][0]
    assert after_send["id"] == first["id"] and after_send["lastMessageTime"] > first["lastMessageTime"]
    assert leeloo.get("/api/v2/people?limit=2&offset=1000").json()["data"] == deep["data"]

    person = create_person(leeloo)
    assert cache.get("people-anchors") is anchors and cache.get(("people", people_backend.NO_FILTER)) == total + 1
    grown = leeloo.get("/api/v2/people?limit=2&offset=1000").json()
    assert grown["meta"]["totalCount"] == total + 1
    ids = [p["id"] for p in every_record(leeloo, "/api/v2/people", {})]
    assert len(ids) == total + 1 and person["person_id"] in ids and ids == sorted(ids)


# --- every write (and every read of one record) in its plain form takes the lane --------------

ROUTED = "?routed=1"  # an unknown query parameter: FastAPI ignores it, the lane leaves the request to FastAPI


def test_every_leeloo_write_is_called_directly() -> None:
    table = direct_routes(ROUTERS)
    for endpoint in ENDPOINTS.values():
        if endpoint.method == "GET":
            continue
        parts = endpoint.path.replace("{", "").replace("}", "").split("/")
        found = next(route for route in table[endpoint.method, len(parts), tuple(parts[:PREFIX])]
                     if route.match(parts))
        assert found.endpoint is not None, endpoint.name


def test_a_static_path_is_looked_up_only_where_no_earlier_route_takes_it() -> None:
    """The lane's one-lookup table of parameterless paths gives the route the walk would give."""
    table = direct_routes(ROUTERS)
    static = static_routes(table)
    assert ("POST", "/api/v2/messages/send-message") in static and ("POST", "/api/v2/calls") in static
    for (method, path), found in static.items():
        parts = path.split("/")
        candidates = table[method, len(parts), tuple(parts[:PREFIX])]
        assert next(route for route in candidates if route.match(parts)) is found, path
    # A parameterless path that an earlier parameterised route takes is left to the walk.
    send = static["POST", "/api/v2/messages/send-message"]
    shadowing = DirectRoute(("", "api", "v2", "x", None), ((4, "id"),), None)
    shadowed = DirectRoute(("", "api", "v2", "x", "y"), (), send.endpoint, send.company)
    key = ("POST", 5, ("", "api", "v2", "x"))
    assert static_routes({key: [shadowing, shadowed]}) == {}
    assert static_routes({key: [shadowed, shadowing]}) == {("POST", "/api/v2/x/y"): shadowed}


def test_the_lane_walks_only_the_routes_a_path_may_match() -> None:
    """Routes are keyed by their literal first segments: a path of another resource, or of another
    platform, meets none of Leeloo's routes. A route with a parameter among them is left to
    FastAPI, and refused if the lane would serve a later route in its place."""
    table = direct_routes(ROUTERS)
    assert all(route.segments[:PREFIX] == key for (_, _, key), routes in table.items() for route in routes)
    assert ("GET", 5, ("", "api", "userapi", "v1")) not in table  # Neiros' /api/userapi/v1/sites
    router = APIRouter()

    @router.get("/api/{version}/people")
    async def shifted(request: Request, company: api.Company, version: str) -> dict[str, str]:
        return {}

    assert direct_routes([router]) == {}
    with pytest.raises(ValueError, match="first 4 segments may take its paths"):
        direct_routes([router, *ROUTERS])
    direct_routes([*ROUTERS, router])  # after Leeloo's routes: they take their paths first


def test_neiros_and_dialog_calls_in_their_plain_form_are_called_directly() -> None:
    table = direct_routes([neiros_router, dialog_router])
    direct = {route.endpoint.__name__: route for routes in table.values() for route in routes if route.endpoint}
    assert sorted(direct) == ["create_campaign", "list_sites", "update_deal"]
    # Integers in their plain form within the route's bounds; anything else is FastAPI's to read.
    update = direct["update_deal"]
    parts = ["", "api", "userapi", "v1", "project", "{}", "update"]
    for deal, taken in [("7", 7), (str(2**53), 2**53), ("0", None), (str(2**53 + 1), None), ("07", 7), ("+7", None),
                        ("٧", None), ("7.0", None), ("9" * 30, None)]:
        parts[5] = deal
        assert update.arguments(parts) == ({"deal_id": taken} if taken is not None else None), deal


def test_a_neiros_or_dialog_call_answers_alike_in_both_lanes(neiros: httpx.Client, dialog: httpx.Client,
                                                              anon: httpx.Client, live: RunningSandbox) -> None:
    deal = neiros.get("/api/userapi/v1/projects", params={"site_id": 100}).json()["data"]["projects"][0]
    update = "/api/userapi/v1/project/{}/update"
    for client, method, path, body in [
        (neiros, "POST", update.format(deal["id"]), {"site_id": 100, "summ": 1500}),
        (neiros, "POST", update.format(deal["id"]), {"site_id": 999_999, "summ": 1}),  # another's site: 404
        (neiros, "POST", update.format(deal["id"]), {"site_id": 100, "summ": -1}),  # 422 naming summ
        (neiros, "POST", update.format(0), {"site_id": 100, "summ": 1}),  # below the bound: FastAPI's 422
        (neiros, "POST", update.format("x7"), {"site_id": 100, "summ": 1}),
        (neiros, "GET", "/api/userapi/v1/sites", None),
        (anon, "POST", update.format(deal["id"]), {"site_id": 100, "summ": 1}),  # no token
        (anon, "GET", "/api/userapi/v1/sites", None),
        (dialog, "POST", "/api/campaigns", {"campaign": {"name": "x"}}),  # 422
        (anon, "POST", "/api/campaigns", {"campaign": {"name": "x"}}),  # 401, the OAuth2 refusal
    ]:
        for token in (None, "Bearer 1|wrong"):
            headers = {"Authorization": token} if token and client is anon else {}
            fast = client.request(method, path, json=body, headers=headers)
            routed = client.request(method, path + ROUTED, json=body, headers=headers)
            assert fast.status_code == routed.status_code, (path, body, token)
            assert fast.json() == routed.json(), (path, body, token)
            assert fast.headers.get("www-authenticate") == routed.headers.get("www-authenticate")


def test_the_platforms_routes_are_kept_apart_by_their_second_segment() -> None:
    """The app lists Neiros' and Dialog's routes before Leeloo's; that changes no match only while
    no path can be one platform's and another's."""
    from leadbridge.sandbox.app import _check_apart
    from leadbridge.sandbox.dialog.routes import router as dialog
    from leadbridge.sandbox.neiros.routes import router as neiros

    _check_apart(((neiros,), (dialog,), ROUTERS))
    for path in ("/api/v2/campaigns", "/api/{platform}/campaigns"):
        intruder = APIRouter()
        intruder.add_api_route(path, lambda: {}, methods=["POST"])
        with pytest.raises(ValueError, match="second segment"):
            _check_apart(((neiros,), (dialog, intruder), ROUTERS))


def test_a_write_answers_alike_in_both_lanes(leeloo: httpx.Client) -> None:
    person = leeloo.get("/api/v2/people", params={"limit": 1}).json()["data"][0]["id"]
    tag = leeloo.get("/api/v2/tags").json()["data"][0]["id"]
    for method, path, body in [
        ("PUT", f"/api/v2/people/{person}/add-tag", {"tag_id": tag}),
        ("PUT", f"/api/v2/people/{person}/add-tag", {"tag_id": "0" * 24}),  # 404 naming tag_id
        ("PUT", f"/api/v2/people/{person}/remove-tag", {"tag_id": tag}),
        ("PUT", f"/api/v2/people/{'0' * 24}/add-comment", {"comment": "x"}),
        ("POST", "/api/v2/calls", {"user_id": "nope"}),  # 422 naming the fields
        ("POST", "/api/v2/messages/send-message", {"account_id": "0" * 24, "text": "x"}),
    ]:
        fast = leeloo.request(method, path, json=body)
        routed = leeloo.request(method, path + ROUTED, json=body)
        assert fast.status_code == routed.status_code, path
        assert fast.json() == routed.json(), path


def test_a_person_updated_in_either_lane_answers_the_same_card(leeloo: httpx.Client) -> None:
    person = leeloo.get("/api/v2/people", params={"limit": 1}).json()["data"][0]["id"]
    body = {"email": "lanes@example.com"}
    fast = leeloo.put(f"/api/v2/people/{person}", json=body).json()
    routed = leeloo.put(f"/api/v2/people/{person}{ROUTED}", json=body).json()
    assert fast["data"].pop("updated_at") <= routed["data"].pop("updated_at")
    assert fast == routed
    assert fast["data"]["email"] == "lanes@example.com"


def test_the_lane_picks_the_route_fastapi_picks(leeloo: httpx.Client) -> None:
    """``/tunnels/stats`` is registered before ``/tunnels/{tunnel_id}``: both lanes serve the stats."""
    fast = leeloo.get("/api/v2/tunnels/stats")
    routed = leeloo.get("/api/v2/tunnels/stats" + ROUTED)
    assert fast.status_code == routed.status_code == 200
    assert fast.json() == routed.json() and "subscribers" in fast.json()["data"][0]
