// Runs the Railway program offline and prints a summary of what it defines: catches errors that
// type-checking cannot (a throw, a duplicate name). Used by deploy/check.sh; needs no Railway account.
import { createRailwayContext, project } from "railway/iac";
import type { ResourceNode } from "railway/iac";
import program from "./.railway/railway.ts";

const definition = await program(createRailwayContext({ environment: "production" }), project);
const resources = (definition.resources ?? []).flat() as ResourceNode[];
const names = resources.map((r) => r.address);
if (new Set(names).size !== names.length) throw new Error(`duplicate resources: ${names.join(", ")}`);
// --full: every resource as the SDK defines it (variables with their values and references), which
// deploy/images/smoke.py reads to configure each service exactly as Railway would.
if (process.argv.includes("--full")) {
  console.log(JSON.stringify({ project: definition.name, resources }, null, 1));
  process.exit(0);
}
console.log(JSON.stringify({ project: definition.name, resources: resources.map((r) => {
  const node = r as ResourceNode & { variables?: Record<string, unknown>; build?: unknown; deploy?: unknown };
  return { address: r.address, variables: Object.keys(node.variables ?? {}), deploy: node.deploy };
}) }, null, 1));
