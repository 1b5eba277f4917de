/**
 * The time left of a bench run, for its progress lines. A run is phases of units (the suite's runs,
 * then the sweep's points). A phase under way is projected from its own average so far; a phase not
 * started from a guess per unit, or not at all when there is none (the ETA then says "at least").
 */

export interface EtaPhase {
  name: string;
  units: number;
  /** Seconds one unit is expected to take before any has been timed. */
  guessSecondsPerUnit?: number;
}

interface PhaseState extends EtaPhase {
  done: number;
  startedAt?: number;
  elapsed: number;
}

export class Eta {
  private phases: PhaseState[];
  private current: PhaseState | null = null;

  constructor(
    phases: readonly EtaPhase[],
    private readonly now: () => number = () => Date.now(),
  ) {
    this.phases = phases.map((p) => ({ ...p, done: 0, elapsed: 0 }));
  }

  /** Start timing a phase (the previous one stops). */
  begin(name: string): void {
    this.stopCurrent();
    const p = this.phases.find((q) => q.name === name);
    if (!p) throw new Error(`no ETA phase ${JSON.stringify(name)}`);
    p.startedAt = this.now();
    this.current = p;
  }

  /** Record finished units of a phase (the current one by default). */
  tick(name?: string, units = 1): void {
    const p = name ? this.phases.find((q) => q.name === name) : this.current;
    if (p) p.done = Math.min(p.units, p.done + units);
  }

  /** Change a phase's planned units (e.g. once skipped work is known). */
  setUnits(name: string, units: number): void {
    const p = this.phases.find((q) => q.name === name);
    if (p) p.units = Math.max(p.done, units);
  }

  /** A phase has ended (with fewer units than planned, if so): it adds nothing more. */
  end(name: string): void {
    const p = this.phases.find((q) => q.name === name);
    if (!p) return;
    if (p === this.current) this.stopCurrent();
    p.units = p.done;
  }

  /** Seconds left, and whether that is only a lower bound (a phase with no estimate yet). */
  remaining(): { seconds: number; atLeast: boolean } {
    let seconds = 0;
    let atLeast = false;
    for (const p of this.phases) {
      const left = p.units - p.done;
      if (left <= 0) continue;
      const elapsed =
        p.elapsed + (p === this.current && p.startedAt !== undefined ? this.now() - p.startedAt : 0) / 1000;
      const perUnit = p.done > 0 ? elapsed / p.done : p.guessSecondsPerUnit;
      if (perUnit === undefined || !Number.isFinite(perUnit)) atLeast = true;
      else seconds += perUnit * left;
    }
    return { seconds, atLeast };
  }

  /** "ETA 3m 05s", "ETA >= 40s" (a phase not yet estimated), "ETA ?" (nothing estimated yet). */
  label(): string {
    const { seconds, atLeast } = this.remaining();
    if (atLeast && seconds === 0) return 'ETA ?';
    return `ETA ${atLeast ? '>= ' : ''}${formatEta(seconds)}`;
  }

  private stopCurrent(): void {
    const p = this.current;
    if (p && p.startedAt !== undefined) p.elapsed += (this.now() - p.startedAt) / 1000;
    if (p) p.startedAt = undefined;
    this.current = null;
  }
}

/** Seconds as "45s", "3m 05s", "1h 02m". */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
