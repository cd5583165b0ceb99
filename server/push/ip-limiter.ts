/** Open connections per client address. max 0 = no limit (still counted, for release symmetry). */
export class IpLimiter {
  private readonly counts = new Map<string, number>()

  constructor(private readonly max: number) {}

  tryAcquire(ip: string): boolean {
    const n = this.counts.get(ip) ?? 0
    if (this.max > 0 && n >= this.max) return false
    this.counts.set(ip, n + 1)
    return true
  }

  release(ip: string): void {
    const n = this.counts.get(ip) ?? 0
    if (n <= 1) this.counts.delete(ip)
    else this.counts.set(ip, n - 1)
  }

  count(ip: string): number {
    return this.counts.get(ip) ?? 0
  }
}
