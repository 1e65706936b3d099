// Numbers, dates, country names and the labels of the API's codes.

import { NAMES } from "./countries.js";

const INTEGER = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 0 });
const DECIMAL = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 3 });
const DAY = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
const SHORT_DAY = new Intl.DateTimeFormat("en-GB", { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
const MOMENT = new Intl.DateTimeFormat("en-GB", {
  day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "UTC", timeZoneName: "short",
});
const CLOCK = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** 12992 → "12,992". */
export const int = (n) => (n === null || n === undefined ? "—" : INTEGER.format(n));
/** A count with its noun, singular for one: (1, "arrest", "arrests") → "1 arrest"; 12 → "12 arrests". */
export const count = (n, one, many) => `${int(n)} ${n === 1 ? one : many}`;
/** A quantity with up to three decimals: 6000 → "6,000", 2.5 → "2.5". */
export const qty = (n) => (n === null || n === undefined ? "—" : DECIMAL.format(n));
/** "2025-09-12" → "12 Sept 2025". */
export const day = (iso) => (iso ? DAY.format(new Date(`${iso.slice(0, 10)}T00:00:00Z`)) : "—");
/** "2025-09-12" → "Fri 12 Sept". */
export const shortDay = (iso) => SHORT_DAY.format(new Date(`${iso}T00:00:00Z`));
/** An RFC 3339 moment, in UTC: "12 Sept 2025, 05:40 UTC". */
export const moment = (iso) => (iso ? MOMENT.format(new Date(iso)) : "—");
/** The local time of day of a Date: "15:42:07". */
export const clock = (date) => CLOCK.format(date);

/** A country's name: "SN" → "Senegal"; "*" → "All countries"; an unknown code stays as it is. */
export function country(code) {
  if (code === "*") return "All countries";
  return NAMES[code] || code;
}

/** "Senegal (SN)". */
export const countryWithCode = (code) => (NAMES[code] ? `${NAMES[code]} (${code})` : code);

/** The metrics, in the order the page shows them, with their labels. */
export const METRICS = [
  ["interceptions", "Interceptions"],
  ["migrants_detected", "Migrants detected"],
  ["victims_safeguarded", "Victims safeguarded"],
  ["arrests", "Arrests"],
  ["investigations_opened", "Investigations opened"],
  ["officers_deployed", "Officers deployed"],
  ["seizures", "Seizures"],
];
const METRIC_LABELS = Object.fromEntries(METRICS);
export const metricLabel = (m) => METRIC_LABELS[m] || m;

/** The breakdowns each metric has (docs/TALLIES.md), `day` aside. */
export const DIMENSIONS = {
  interceptions: ["kind"],
  migrants_detected: ["nationality", "age_group", "sex", "kind"],
  victims_safeguarded: ["exploitation", "nationality", "age_group", "sex", "kind"],
  arrests: ["kind"],
  investigations_opened: ["kind"],
  seizures: ["category"],
  officers_deployed: [],
};
/** Metrics with a daily series. */
export const DAILY = ["interceptions", "migrants_detected", "victims_safeguarded", "arrests", "investigations_opened"];

const DIMENSION_LABELS = {
  exploitation: "Form of exploitation", nationality: "Nationality", age_group: "Age group", sex: "Sex",
  kind: "Kind of interception", day: "Day", category: "Seizure category",
};
export const dimensionLabel = (d) => DIMENSION_LABELS[d] || d;

const WORDS = {
  sea_departure: "Sea departure", land_border: "Land border", air_border: "Air border", premises: "Premises",
  checkpoint: "Checkpoint", online: "Online", other: "Other",
  sexual_exploitation: "Sexual exploitation", forced_labour: "Forced labour", forced_criminality: "Forced criminality",
  forced_begging: "Forced begging", forced_marriage: "Forced marriage", organ_removal: "Organ removal",
  child_labour: "Child labour",
  child: "Children", adult: "Adults", female: "Female", male: "Male", unknown: "Not stated",
  weapons: "Weapons", ammunition: "Ammunition", explosives: "Explosives", military_equipment: "Military equipment",
  cash: "Cash", drugs: "Drugs", vehicles: "Vehicles", vessels: "Vessels", documents: "Documents",
  bank_cards: "Bank cards", electronics: "Electronics",
  national_central_bureau: "National Central Bureau", coordination_unit: "Coordination unit", field_unit: "Field unit",
  planned: "Planned", active: "Active", closed: "Closed", reported: "Stated", derived: "From records",
  upsert: "Stored", delete: "Retracted", interception: "Interception", unit: "Unit", tally: "Stated figure",
  interim: "Interim", final: "Final", draft: "Draft", published: "Published",
};

/** The label of a code the API uses (kinds, forms of exploitation, statuses...); itself if unknown. */
export const word = (code) => WORDS[code] || code;

/** A breakdown bucket's label: a nationality is a country; a seizure `category:unit` reads "Cash (EUR)". */
export function bucketLabel(dimension, bucket) {
  if (dimension === "nationality" && bucket !== "unknown") return country(bucket);
  if (dimension === "day") return /^\d{4}-\d{2}-\d{2}$/.test(bucket) ? shortDay(bucket) : word(bucket);
  if (bucket.includes(":")) {
    const [category, unit] = bucket.split(":");
    return `${word(category)} (${unit})`;
  }
  return word(bucket);
}

/** Every day from `from` to `to` (ISO dates, inclusive). */
export function daysBetween(from, to) {
  const days = [];
  for (let d = new Date(`${from}T00:00:00Z`); d <= new Date(`${to}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
    days.push(d.toISOString().slice(0, 10));
  }
  return days;
}
