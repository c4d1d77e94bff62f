// Generates the API client from ../proto with Debian's protoc and the
// protoc-gen-es plugin from node_modules: src/gen/ is build output (git-ignored).
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const proto = join(web, "..", "proto");
const out = join(web, "src", "gen");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const files = readdirSync(join(proto, "xinfang", "v1"))
  .filter((f) => f.endsWith(".proto"))
  .map((f) => join("xinfang", "v1", f));
execFileSync(
  "protoc",
  [
    `--plugin=protoc-gen-es=${join(web, "node_modules", ".bin", "protoc-gen-es")}`,
    `--es_out=${out}`,
    "--es_opt=target=ts,import_extension=none",
    `-I${proto}`,
    ...files,
  ],
  { stdio: "inherit" },
);
console.log(`generated ${files.length} files into src/gen`);
