// Checks the Gateway API resources (Gateway, HTTPRoute) of the YAML files given, which
// kubernetes-validate has no schema for (it only warns and passes them), in two ways:
//
//   1. against the Gateway API's own schema, as @kubernetes-models/gateway-api compiles
//      it from the project's types: field types, required fields, enums (methods, path
//      match types), patterns (paths, durations, names) and limits;
//   2. against its TypeScript types, with tsc: an object literal may only hold known
//      properties, so an unknown or misspelt field anywhere is an error, as
//      kubernetes-validate --strict makes it for the built-in kinds.
//
// Not checked: the CRDs' CEL rules (x-kubernetes-validations), which only an API
// server runs. The types include the experimental channel's fields.
//
// tests/deploy/run copies this file next to the node_modules it installs and runs
//   node gateway-api.mjs deploy/kubernetes/gateway.yaml deploy/kubernetes/httproute.yaml
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { parseAllDocuments } from "yaml";
import * as v1 from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1";

const here = dirname(fileURLToPath(import.meta.url));
const API_VERSION = "gateway.networking.k8s.io/v1";

let failed = 0;
const checked = []; // [file, kind, name, document]
for (const file of process.argv.slice(2)) {
  const documents = parseAllDocuments(readFileSync(file, "utf8"));
  for (const document of documents) {
    if (document.errors.length > 0) {
      console.log(`ERROR ${file}: ${document.errors.map((e) => e.message).join("; ")}`);
      failed++;
      continue;
    }
    const resource = document.toJS();
    if (resource === null) continue;
    const name = `${resource.kind}/${resource.metadata?.name}`;
    const Model = resource.apiVersion === API_VERSION ? v1[resource.kind] : undefined;
    if (typeof Model !== "function" || typeof Model.is !== "function") {
      console.log(`ERROR ${file}: ${name}: not a kind of ${API_VERSION}`);
      failed++;
      continue;
    }
    try {
      new Model(resource).validate();
    } catch (error) {
      console.log(`ERROR ${file}: ${name} did not validate: ${error.message}`);
      failed++;
      continue;
    }
    checked.push([file, resource.kind, name, resource]);
  }
}

// Every resource as a typed constant; tsc reports each unknown property.
const work = mkdtempSync(join(here, "typecheck-"));
try {
  const kinds = [...new Set(checked.map(([, kind]) => kind))];
  const lines = kinds.map(
    (kind) => `import type { I${kind} } from "@kubernetes-models/gateway-api/${API_VERSION.split("/")[0]}/v1/${kind}";`,
  );
  checked.forEach(([file, kind, name, resource], index) => {
    lines.push(`// ${file}: ${name}`);
    lines.push(`export const resource${index}: I${kind} = ${JSON.stringify(resource, null, 2)};`);
  });
  writeFileSync(join(work, "resources.ts"), lines.join("\n") + "\n");
  writeFileSync(
    join(work, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        skipLibCheck: true,
      },
      files: ["resources.ts"],
    }),
  );
  const tsc = createRequire(join(here, "package.json")).resolve("typescript/bin/tsc");
  try {
    execFileSync(process.execPath, [tsc, "-p", join(work, "tsconfig.json")], { encoding: "utf8" });
  } catch (error) {
    // tsc names the line of resources.ts; show the resource the line belongs to.
    const source = readFileSync(join(work, "resources.ts"), "utf8").split("\n");
    for (const message of `${error.stdout}`.split("\n").filter(Boolean)) {
      const line = Number(/resources\.ts\((\d+),/.exec(message)?.[1] ?? 0);
      const owner = source.slice(0, line).reverse().find((l) => l.startsWith("// "));
      console.log(`ERROR ${owner?.slice(3) ?? "?"}: ${message.replace(/^.*?error /, "")}`);
      failed++;
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (failed === 0) {
  for (const [file, , name] of checked) console.log(`INFO ${file} passed for resource ${name} (Gateway API ${API_VERSION})`);
}
process.exit(failed === 0 && checked.length > 0 ? 0 : 1);
