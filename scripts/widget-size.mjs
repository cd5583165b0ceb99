// Prints the raw, gzip and brotli size of the built widget; exits 1 when widget.js is over its
// gzip budget (12 KB) or missing. Run after `vite build --config widget/vite.config.ts`.
import { readFileSync } from 'node:fs'
import { brotliCompressSync, gzipSync } from 'node:zlib'

const BUDGET = 12 * 1024
const dist = new URL('../dist/', import.meta.url)
const kb = (n) => `${(n / 1024).toFixed(2)} KB`.padStart(9)

let failed = false
for (const file of ['widget.js', 'elements.js']) {
  let code
  try {
    code = readFileSync(new URL(file, dist))
  } catch {
    console.error(`${file}: missing from dist/ (did the build run?)`)
    failed = true
    continue
  }
  const gzip = gzipSync(code, { level: 9 }).length
  const brotli = brotliCompressSync(code).length
  const over = file === 'widget.js' && gzip > BUDGET
  console.log(
    `${file.padEnd(12)} raw ${kb(code.length)}  gzip ${kb(gzip)} (${gzip} B)  brotli ${kb(brotli)}` +
      (file === 'widget.js' ? `  budget ${BUDGET} B gzip: ${over ? 'OVER' : 'ok'}` : ''),
  )
  failed ||= over
}
process.exit(failed ? 1 : 0)
