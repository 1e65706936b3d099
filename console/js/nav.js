// The screens of an operation, in the order of the navigation, and the one a token lands on.

import * as session from "./session.js";

// A screen is listed only when the API it is a client of exists, and shown only to a token with
// the scope it needs (`scope`, and every country where its API asks for that). A desk's
// spreadsheet import has no entry of its own: it is part of its country's screen.
const OPERATION_SCREENS = [
  { id: "overview", label: "Overview", href: (op) => `#/ops/${op}`, scope: "tallies:read" },
  { id: "countries", label: "Countries", href: (op) => `#/ops/${op}/countries`, scope: "operations:read" },
  { id: "reporting", label: "Reporting", href: (op) => `#/ops/${op}/reporting`, scope: "tallies:read" },
  { id: "live", label: "Live", href: (op) => `#/ops/${op}/live`, scope: "tallies:read" },
  { id: "releases", label: "Releases", href: (op) => `#/ops/${op}/releases`, scope: "releases:read", everyCountry: true },
];

/** The screens of an operation the signed-in token may open. */
export function operationScreens() {
  return OPERATION_SCREENS.filter((s) => session.can(s.scope) && (!s.everyCountry || session.allCountries()));
}

/** Where an operation opens for this token: its first screen the token may open (the overview for most). */
export function operationHome(op) {
  const [first] = operationScreens();
  return first ? first.href(encodeURIComponent(op)) : "#/";
}
