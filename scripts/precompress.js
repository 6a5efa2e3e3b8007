// Usage: node scripts/precompress.js DIR [BROTLI_QUALITY]
// Writes FILE.br and FILE.gz beside every .wasm, .js and .css file in DIR
// (Node's built-in zlib: no extra tool to install).
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");

const [dir, q] = process.argv.slice(2);
const quality = Number(q ?? 11);
for (const name of fs.readdirSync(dir)) {
  if (!/\.(wasm|js|css)$/.test(name)) continue;
  const file = path.join(dir, name);
  const buf = fs.readFileSync(file);
  const br = zlib.brotliCompressSync(buf, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: quality,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
    },
  });
  fs.writeFileSync(file + ".br", br);
  fs.writeFileSync(file + ".gz", zlib.gzipSync(buf, { level: 9 }));
  console.log(`${name}: ${buf.length} B, gzip ${fs.statSync(file + ".gz").size} B, brotli ${br.length} B`);
}
