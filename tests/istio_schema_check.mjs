// Validate Istio resources against the CRD schemas that @kubernetes-models/istio ships, and
// reject fields the schema does not know (the CRDs themselves leave unknown fields to the API
// server's pruning, so the package's validators alone would accept a misspelled field).
//
// stdin:  JSON list of {"id": any, "doc": object}
// stdout: JSON list of {"id": any, "errors": [{"path": "/json/pointer", "message": "..."}]}
//
// Used by tests/test_labs.py; see its docstring for the Istio 1.29.2 -> 1.30 gap it covers.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const PKG_DIR = path.dirname(require.resolve("@kubernetes-models/istio/package.json"));

// Fields that Istio 1.30 added to CRDs that already existed in 1.29.2, the release the package's
// schemas are generated from (diff of manifests/charts/base/files/crd-all.gen.yaml, 1.29.2..1.30.3).
// Each entry: [kind, pointer pattern, check of the value].
const isStringArray = (v) => Array.isArray(v) && v.every((s) => typeof s === "string");
const ADDED_IN_1_30 = [
  ["AuthorizationPolicy", /^\/spec\/rules\/\d+\/from\/\d+\/source\/(trustDomains|notTrustDomains)$/, isStringArray, "a list of strings"],
  ["Telemetry", /^\/spec\/tracing\/\d+\/disableContextPropagation$/, (v) => v === null || typeof v === "boolean", "a boolean"],
];
// Kinds that Istio 1.30 added and the package has no schema for.
const NEW_KINDS_1_30 = new Set(["extensions.istio.io/v1alpha1/TrafficExtension"]);

const pascal = (s) => s.split(/[.-]/).map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join("");
const escape = (k) => String(k).replace(/~/g, "~0").replace(/\//g, "~1");

const validators = new Map();
async function loadKind(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (validators.has(key)) return validators.get(key);
  let entry = null;
  const [group, version] = apiVersion.split("/");
  if (group && version && /^[A-Za-z0-9]+$/.test(kind)) {
    const schemaFile = path.join(PKG_DIR, "_schemas", `${pascal(group)}${pascal(version)}${kind}.js`);
    const dtsFile = path.join(PKG_DIR, group, version, `${kind}.d.ts`);
    if (fs.existsSync(schemaFile)) {
      const mod = await import(schemaFile);
      const dts = fs.existsSync(dtsFile) ? fs.readFileSync(dtsFile, "utf8") : "";
      // A field declared as `{}` is free-form (x-kubernetes-preserve-unknown-fields): its content
      // is not checked. A kind whose model declares no spec at all (IstioOperator) has a free-form spec.
      const freeForm = new Set([...dts.matchAll(/"([A-Za-z0-9_]+)"\??: \{\};/g)].map((m) => m[1]));
      const interfaceBody = (dts.match(/export interface I\w+ \{([\s\S]*?)\n\}/) || ["", ""])[1];
      const freeSpec = !/\n {4}"spec"\??:/.test(interfaceBody);
      entry = { validate: mod.validate, freeForm, freeSpec };
    }
  }
  validators.set(key, entry);
  return entry;
}

function run(validate, doc) {
  validate(doc);
  return validate.errors || [];
}

function describe(err) {
  const p = err.params || {};
  switch (err.keyword) {
    case "type": return `must be of type ${p.type}`;
    case "enum": return `must be one of ${(p.allowedValues || []).join(", ")}`;
    case "required": return `is missing the required field "${p.missingProperty}"`;
    case "pattern": return `must match the pattern ${p.pattern}`;
    case "oneOf": return "must match exactly one of the allowed forms (check mutually exclusive fields)";
    case "anyOf": return "must match one of the allowed forms";
    default: return `fails "${err.keyword}" ${JSON.stringify(p)}`;
  }
}

function checkDoc(entry, kind, doc) {
  const errors = [];
  const seen = new Set();
  for (const err of run(entry.validate, doc)) {
    const k = `${err.instancePath}|${err.keyword}`;
    if (seen.has(k)) continue;
    seen.add(k);
    // anyOf/oneOf branches repeat the same path: keep the more specific messages only once.
    errors.push({ path: err.instancePath, message: describe(err) });
  }
  // Unknown-field probe: a field the schema knows is type-checked, so replacing its value with a
  // Symbol (which no JSON type accepts) produces an error at exactly its path; a field the schema
  // does not know produces none.
  const probe = (node, pointer, parents) => {
    if (node === null || typeof node !== "object") return;
    if (Array.isArray(node)) {
      node.forEach((v, i) => probe(v, `${pointer}/${i}`, parents));
      return;
    }
    for (const key of Object.keys(node)) {
      const here = `${pointer}/${escape(key)}`;
      if (pointer === "" && (key === "apiVersion" || key === "kind")) continue;
      if (pointer === "" && key === "spec" && entry.freeSpec) continue;
      const added = ADDED_IN_1_30.find(([k, re]) => k === kind && re.test(here));
      if (added) {
        if (!added[2](node[key])) errors.push({ path: here, message: `must be ${added[3]}` });
        continue;
      }
      const saved = node[key];
      node[key] = Symbol("probe");
      const known = run(entry.validate, doc).some((e) => e.instancePath === here);
      node[key] = saved;
      if (!known) {
        errors.push({ path: here, message: `unknown field "${key}" (not in the ${kind} schema)` });
        continue;
      }
      if (entry.freeForm.has(key)) continue;
      probe(saved, here, parents);
    }
  };
  probe(doc, "", []);
  return errors;
}

const input = JSON.parse(fs.readFileSync(0, "utf8"));
const out = [];
for (const { id, doc } of input) {
  const apiVersion = doc && doc.apiVersion;
  const kind = doc && doc.kind;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    out.push({ id, errors: [{ path: "", message: "a document needs string apiVersion and kind" }] });
    continue;
  }
  const entry = await loadKind(apiVersion, kind);
  if (!entry) {
    const why = NEW_KINDS_1_30.has(`${apiVersion}/${kind}`)
      ? "a kind new in Istio 1.30 that the pinned schema package does not cover yet; the checker cannot validate it"
      : "no such Istio kind and version (check apiVersion and kind spelling)";
    out.push({ id, errors: [{ path: "/kind", message: `${apiVersion} ${kind}: ${why}` }] });
    continue;
  }
  out.push({ id, errors: checkDoc(entry, kind, doc) });
}
process.stdout.write(JSON.stringify(out));
