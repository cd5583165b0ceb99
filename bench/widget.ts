import type { BenchContext } from './lib/context.js'
import { NotReady } from './lib/context.js'
import type { Figure } from './lib/report.js'

export async function widgetBench(_ctx: BenchContext): Promise<{ figures: Figure[]; details: unknown }> {
  throw new NotReady('not wired yet')
}
