// A third-party tool's view in TypeScript: drive opcoord through types generated from the
// committed openapi/openapi.json by openapi-typescript (./opcoord.d.ts, made by
// tests/clients/build.sh) and the openapi-fetch client, with no hand-written HTTP.
// The same scenario as tests/system/client_scenario.py, on an operation of its own.
//
// Usage: node dist/scenario.js BASE_URL SECRETARIAT_TOKEN. Exits non-zero at the first
// unexpected answer.
import createClient from "openapi-fetch";
import type { components, paths } from "./opcoord.js";

type Schemas = components["schemas"];

const OP = "client-scenario-typescript";
let checks = 0;

function expect(what: string, condition: boolean, detail?: unknown): void {
  if (!condition) {
    console.log(`typescript client scenario: FAILED: ${what} ${JSON.stringify(detail) ?? ""}`);
    process.exit(1);
  }
  checks += 1;
}

// A client of the JSON answers (get_tallies also answers CSV when asked with `Accept: text/csv`).
function client(baseUrl: string, token: string) {
  return createClient<paths, `${string}/json`>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
}

async function main(baseUrl: string, token: string): Promise<void> {
  const secretariat = client(baseUrl, token);
  const newOperation: Schemas["NewOperation"] = {
    id: OP,
    name: "Client scenario (TypeScript)",
    status: "active",
    starts_on: "2025-09-08",
    ends_on: "2025-09-14",
  };
  const created = await secretariat.POST("/v1/operations", { body: newOperation });
  expect("create operation", created.response.status === 201 || created.response.status === 200, created.error);

  const unit = await secretariat.POST("/v1/operations/{op}/units", {
    params: { path: { op: OP } },
    body: { country: "SN", name: "DGPN", kind: "national_central_bureau", officers_deployed: 300 },
  });
  expect("create unit", unit.data !== undefined, unit.error);
  const unitId = unit.data?.id ?? -1;

  const operation = await secretariat.GET("/v1/operations/{op}", { params: { path: { op: OP } } });
  expect(
    "participation",
    JSON.stringify(operation.data?.participating_countries) === '["SN"]' && operation.data?.officers_deployed === 300,
    operation.data,
  );

  const issued = await secretariat.POST("/v1/tokens", {
    body: {
      sub: "sn-dgpn-sync",
      scope: "interceptions:write interceptions:read tallies:read",
      countries: ["SN"],
      ops: [OP],
      ttl_seconds: 600,
    },
  });
  expect("issue a national token", JSON.stringify(issued.data?.countries) === '["SN"]', issued.error);
  const national = client(baseUrl, issued.data?.token ?? "");

  const items: Schemas["InterceptionInput"][] = [0, 1, 2].map((i) => ({
    country: "SN",
    external_ref: `CLIENT-${i}`,
    kind: "sea_departure",
    occurred_at: "2025-09-12T05:40:00Z",
    migrants: { total: 100 + i, children: 5, by_nationality: { SN: 80, GM: 20 } },
    seizures: [{ category: "cash", quantity: 6000, unit: "EUR" }],
  }));
  const push = () =>
    national.POST("/v1/operations/{op}/interceptions/batch", { params: { path: { op: OP } }, body: { items } });
  const pushed = await push();
  const first = pushed.data?.summary;
  expect("push a batch", first !== undefined && first.created + first.unchanged === 3, pushed.error ?? pushed.data);
  const again = (await push()).data?.summary;
  expect("replay is unchanged", again?.unchanged === 3 && again.created === 0, again);

  // More children than migrants: a 422 problem with a JSON pointer to the failing member, and
  // nothing stored (the change feed below holds only the three good records).
  const refused = await national.PUT("/v1/operations/{op}/interceptions/{country}/{external_ref}", {
    params: { path: { op: OP, country: "SN", external_ref: "CLIENT-BAD" } },
    body: { kind: "sea_departure", occurred_at: "2025-09-12T05:40:00Z", migrants: { total: 3, children: 5 } },
  });
  const problem: Schemas["Problem"] | undefined = refused.error;
  expect("a 422 problem", refused.response.status === 422 && problem?.status === 422, problem);
  const pointers = (problem?.errors ?? []).map((error) => error.pointer);
  expect("its pointers", pointers.includes("/migrants/children"), pointers);

  const report = await national.GET("/v1/operations/{op}/tallies", {
    params: { path: { op: OP }, query: { metric: "migrants_detected" } },
  });
  expect("totals", report.data?.totals[0]?.value === 303, report.data?.totals);
  const country = report.data?.countries[0];
  expect("provenance", country?.source === "derived" && country.country === "SN", country);

  const seen: string[] = [];
  let after = 0;
  for (;;) {
    const page = await national.GET("/v1/operations/{op}/changes", {
      params: { path: { op: OP }, query: { after, limit: 2 } },
    });
    expect("a page of changes", page.data !== undefined, page.error);
    seen.push(...(page.data?.changes ?? []).map((change) => change.key));
    after = page.data?.next ?? after;
    if (!page.data?.has_more) break;
  }
  const expected = ["SN/CLIENT-0", "SN/CLIENT-1", "SN/CLIENT-2", String(unitId)].sort();
  expect("change feed: every change once", JSON.stringify(seen.sort()) === JSON.stringify(expected), seen);
  const quiet = await national.GET("/v1/operations/{op}/changes", { params: { path: { op: OP }, query: { after } } });
  expect("nothing new after the end", quiet.data?.changes.length === 0 && quiet.data.next === after, quiet.data);
  console.log(`typescript client scenario: ${checks} passed, 0 failed`);
}

const [baseUrl, token] = process.argv.slice(2);
if (baseUrl === undefined || token === undefined) {
  console.log("usage: node dist/scenario.js BASE_URL SECRETARIAT_TOKEN");
  process.exit(2);
}
await main(baseUrl, token);
