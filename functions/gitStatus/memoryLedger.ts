import type { ReportLedger } from './types.js';

/**
 * A `ReportLedger` in memory, with the same semantics as the run ledger's (create-once claims,
 * atomic read-modify-write): for tests, and for a caller without a ledger at hand. It also says
 * which claims were taken, for assertions.
 */
export class MemoryReportLedger implements ReportLedger {
  readonly claims = new Set<string>();
  readonly docs = new Map<string, Record<string, unknown>>();

  async claim(key: string): Promise<boolean> {
    await Promise.resolve();
    if (this.claims.has(key)) return false;
    this.claims.add(key);
    return true;
  }

  async release(key: string): Promise<void> {
    await Promise.resolve();
    this.claims.delete(key);
  }

  async update<T extends Record<string, unknown>>(key: string, next: (current: T | undefined) => T | undefined): Promise<{ value: T | undefined; changed: boolean }> {
    await Promise.resolve();
    const current = this.docs.get(key) as T | undefined;
    const value = next(current === undefined ? undefined : structuredClone(current));
    if (value === undefined) return { value: current === undefined ? undefined : structuredClone(current), changed: false };
    this.docs.set(key, structuredClone(value));
    return { value: structuredClone(value), changed: true };
  }
}
