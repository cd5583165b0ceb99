import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** What run.ts gives each benchmark. */
export interface BenchContext {
  quick: boolean
  /** Directory for .cpuprofile files of the servers under test, when --profile is given. */
  profileDir: string | undefined
  log(message: string): void
}

/** A temp directory removed afterwards. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  try {
    return await fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A benchmark could not run because a part of the product it measures is not there yet. */
export class NotReady extends Error {
  override name = 'NotReady'
}
