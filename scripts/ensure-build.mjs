// Builds the server (tsc) and the widget (vite) when their output is missing or older than the sources,
// so `npm start` is one command on a fresh clone.
import { execSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname

function newest(dir) {
  let t = 0
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = join(dir, entry.name)
    if (entry.isDirectory()) t = Math.max(t, newest(p))
    else t = Math.max(t, statSync(join(root, p)).mtimeMs)
  }
  return t
}

function stale(output, dirs) {
  const out = join(root, output)
  if (!existsSync(out)) return true
  const built = statSync(out).mtimeMs
  return dirs.some((d) => newest(d) > built)
}

if (stale('build/server/main.js', ['server', 'shared'])) {
  console.error('pricewire: building the server…')
  execSync('npm run build:server', { cwd: root, stdio: 'inherit' })
}
if (stale('dist/widget.js', ['widget', 'shared'])) {
  console.error('pricewire: building the widget…')
  execSync('npm run build:widget', { cwd: root, stdio: 'inherit' })
}
