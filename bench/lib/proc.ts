import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** CPU time and resident memory of other processes, from /proc/<pid>/stat (Linux). */

const sysconf = (name: string, fallback: number): number => {
  try {
    return Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim()) || fallback
  } catch {
    return fallback
  }
}
const CLOCK_TICKS = sysconf('CLK_TCK', 100)
const PAGE_SIZE = sysconf('PAGESIZE', 4096)

export interface ProcSample {
  /** user + system CPU time since the process started, ms. */
  cpuMs: number
  rssBytes: number
}

/** One reading; undefined once the process is gone. */
export function readProc(pid: number): ProcSample | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // The command name (field 2) may contain spaces: fields are counted after its closing parenthesis.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  const rssPages = Number(fields[21])
  return { cpuMs: ((utime + stime) * 1000) / CLOCK_TICKS, rssBytes: rssPages * PAGE_SIZE }
}

export interface CpuUse {
  cpuMs: number
  wallMs: number
  /** Percent of one core over the window (200 % = both cores of a 2-core machine). */
  pct: number
}

/** Measures the CPU several processes use over one window: start now, read with stop(). */
export class CpuWindow<K extends string> {
  private readonly start = new Map<K, number>()
  private readonly startedAt = performance.now()

  constructor(private readonly pids: Record<K, number>) {
    for (const [name, pid] of Object.entries(pids) as [K, number][])
      this.start.set(name, readProc(pid)?.cpuMs ?? 0)
  }

  stop(): Record<K, CpuUse> {
    const wallMs = performance.now() - this.startedAt
    const out = {} as Record<K, CpuUse>
    for (const [name, pid] of Object.entries(this.pids) as [K, number][]) {
      const cpuMs = (readProc(pid)?.cpuMs ?? 0) - (this.start.get(name) ?? 0)
      out[name] = { cpuMs, wallMs, pct: (cpuMs / wallMs) * 100 }
    }
    return out
  }
}

/** Sums CPU use of several processes of one side (e.g. two client processes). */
export function addCpu(uses: readonly CpuUse[]): CpuUse {
  const cpuMs = uses.reduce((s, u) => s + u.cpuMs, 0)
  const wallMs = Math.max(0, ...uses.map((u) => u.wallMs))
  return { cpuMs, wallMs, pct: wallMs ? (cpuMs / wallMs) * 100 : 0 }
}

/**
 * Pins a running process and all its threads to the given CPUs (Linux `taskset`), so that a
 * server and its load generator stop taking time from each other. False when it cannot be done
 * (no taskset, or fewer CPUs than asked for); the run then goes on unpinned.
 */
export function pinToCpus(pid: number, cpus: readonly number[]): boolean {
  try {
    const online = Number(execFileSync('nproc', { encoding: 'utf8' }).trim())
    if (cpus.some((c) => c >= online)) return false
    execFileSync('taskset', ['-a', '-c', '-p', cpus.join(','), String(pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
