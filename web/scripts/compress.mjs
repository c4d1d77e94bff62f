// Writes a gzip twin (NAME.gz) of each built asset, which the server sends to
// browsers that accept gzip (services/common/http_face.cc).
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");
let before = 0, after = 0;
for (const dir of [dist, join(dist, "assets")]) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!/\.(js|css|html|svg|json)$/.test(name) || statSync(path).size < 1024) continue;
    const raw = readFileSync(path);
    const gz = gzipSync(raw, { level: 9 });
    writeFileSync(`${path}.gz`, gz);
    before += raw.length;
    after += gz.length;
  }
}
console.log(`gzip twins: ${(before / 1024).toFixed(0)} kB -> ${(after / 1024).toFixed(0)} kB`);
