// Compiled by `make clients` against the generated types: the operations integrators use most
// must keep their names and shapes.
import type { components, operations, paths } from "../build/clients/typescript/ntm-api";

type UnitList = components["schemas"]["UnitList"];
type ListUnits = operations["units_list"];
type UnitsQuery = NonNullable<ListUnits["parameters"]["query"]>;
type PutValues = operations["assessments_values_put"];
type PutValuesHeaders = NonNullable<PutValues["parameters"]["header"]>;
type Problem = components["schemas"]["Problem"];

export const query: UnitsQuery = { updated_since: "2025-07-01T00:00:00Z", limit: 100 };
export const headers: PutValuesHeaders = { "If-Match": '"abc"', "Audit-Note": "quý 3" };
export function nextCursor(page: UnitList): string | null | undefined {
  return page.next_cursor;
}
export function problemCode(problem: Problem): string {
  return problem.code;
}
export type UnitsPath = paths["/api/v1/units"]["get"];
