"""A third-party tool's view: drive opcoord through a client generated from the committed
openapi/openapi.json by openapi-python-client, with no hand-written HTTP.

Usage: python3 client_scenario.py BASE_URL SECRETARIAT_TOKEN (the generated package
`opcoord_client` on PYTHONPATH). Exits non-zero at the first unexpected answer.
"""

import sys

from opcoord_client import AuthenticatedClient
from opcoord_client.api.interceptions import push_interceptions, put_interception
from opcoord_client.api.operations import create_operation, get_operation
from opcoord_client.api.sync import list_changes
from opcoord_client.api.tallies import get_tallies
from opcoord_client.api.tokens import issue_token
from opcoord_client.api.units import create_unit
from opcoord_client.models import BatchRequest, InterceptionInput, Metric, NewOperation, NewToken, NewUnit, Problem

OP = "client-scenario"
checks = 0


def expect(what, condition, detail=""):
    global checks
    if not condition:
        print(f"client scenario: FAILED: {what} {detail}")
        sys.exit(1)
    checks += 1


def main(base_url, token):
    secretariat = AuthenticatedClient(base_url=base_url, token=token)
    created = create_operation.sync_detailed(client=secretariat, body=NewOperation.from_dict({
        "id": OP, "name": "Client scenario", "status": "active", "starts_on": "2025-09-08", "ends_on": "2025-09-14"}))
    expect("create operation", created.status_code in (200, 201), created.content)
    unit = create_unit.sync_detailed(OP, client=secretariat, body=NewUnit.from_dict({
        "country": "SN", "name": "DGPN", "kind": "national_central_bureau", "officers_deployed": 300}))
    expect("create unit", unit.status_code in (200, 201), unit.content)
    operation = get_operation.sync(OP, client=secretariat)
    expect("participation", operation.participating_countries == ["SN"] and operation.officers_deployed == 300)

    issued = issue_token.sync(client=secretariat, body=NewToken.from_dict({
        "sub": "sn-dgpn-sync", "scope": "interceptions:write interceptions:read tallies:read",
        "countries": ["SN"], "ops": [OP], "ttl_seconds": 600}))
    expect("issue a national token", getattr(issued, "countries", None) == ["SN"], issued)
    national = AuthenticatedClient(base_url=base_url, token=issued.token)

    items = [
        {"country": "SN", "external_ref": f"CLIENT-{i}", "kind": "sea_departure", "occurred_at": "2025-09-12T05:40:00Z",
         "migrants": {"total": 100 + i, "children": 5, "by_nationality": {"SN": 80, "GM": 20}},
         "seizures": [{"category": "cash", "quantity": 6000, "unit": "EUR"}]}
        for i in range(3)
    ]
    pushed = push_interceptions.sync(OP, client=national, body=BatchRequest.from_dict({"items": items}))
    expect("push a batch", pushed is not None and pushed.summary.created + pushed.summary.unchanged == 3, pushed)
    again = push_interceptions.sync(OP, client=national, body=BatchRequest.from_dict({"items": items}))
    expect("replay is unchanged", again.summary.unchanged == 3 and again.summary.created == 0)

    # More children than migrants: a 422 problem with a JSON pointer to the failing member, and
    # nothing stored (the change feed below holds only the three good records).
    refused = put_interception.sync_detailed(OP, "SN", "CLIENT-BAD", client=national, body=InterceptionInput.from_dict({
        "kind": "sea_departure", "occurred_at": "2025-09-12T05:40:00Z", "migrants": {"total": 3, "children": 5}}))
    expect("a 422 problem", refused.status_code == 422 and isinstance(refused.parsed, Problem), refused.content)
    pointers = [error.pointer for error in refused.parsed.errors]
    expect("its pointers", refused.parsed.status == 422 and "/migrants/children" in pointers, pointers)

    report = get_tallies.sync(OP, client=national, metric=Metric.MIGRANTS_DETECTED)
    expect("totals", report.totals[0].value == 303, report.totals)
    expect("provenance", report.countries[0].source.value == "derived" and report.countries[0].country == "SN")

    seen, after = [], 0
    while True:
        page = list_changes.sync(OP, client=national, after=after, limit=2)
        seen.extend(change.key for change in page.changes)
        after = page.next_
        if not page.has_more:
            break
    expected = sorted(["SN/CLIENT-0", "SN/CLIENT-1", "SN/CLIENT-2", str(unit.parsed.id)])
    expect("change feed: every change once", sorted(seen) == expected, seen)
    quiet = list_changes.sync(OP, client=national, after=after)
    expect("nothing new after the end", quiet.changes == [] and quiet.next_ == after)
    print(f"client scenario: {checks} passed, 0 failed")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
