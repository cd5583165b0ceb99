// Fails early, with the fix, when a tool the tests need is missing (CI installs them: bash .ci/run).
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const missing = []
try {
  execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
} catch {
  missing.push('redis-server')
}
if (!existsSync('/usr/bin/chromium')) missing.push('chromium')
if (missing.length) {
  console.error(
    `The tests need ${missing.join(' and ')}: apt-get install -y ${missing.join(' ')} (or run: bash .ci/run)`,
  )
  process.exit(1)
}
