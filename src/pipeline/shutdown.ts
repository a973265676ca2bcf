/**
 * Graceful shutdown, as one ordered function so it can be tested on its own:
 * 1. stop fetching (no new input is accepted);
 * 2. drain: let in-flight work finish, up to `drainTimeoutMs`; what is still in flight
 *    then is abandoned, never committed, and will be read again on restart;
 * 3. flush the producer;
 * 4. commit the offsets of everything written and acknowledged;
 * 5. disconnect.
 * A step that fails is reported and the later steps still run, except that nothing is
 * committed after a failed flush. Calling it again returns the same promise.
 */
export interface ShutdownSteps {
  stopFetching(): void | Promise<void>;
  /** Resolves true when in-flight work finished, false when it was abandoned at the timeout. */
  drain(timeoutMs: number): Promise<boolean>;
  flush(): Promise<void>;
  commit(): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ShutdownReport {
  drained: boolean;
  committed: boolean;
  errors: { step: keyof ShutdownSteps; error: unknown }[];
}

export function createShutdown(steps: ShutdownSteps, options: { drainTimeoutMs: number }): () => Promise<ShutdownReport> {
  let running: Promise<ShutdownReport> | undefined;
  const run = async (): Promise<ShutdownReport> => {
    const report: ShutdownReport = { drained: false, committed: false, errors: [] };
    const attempt = async <T>(step: keyof ShutdownSteps, fn: () => T | Promise<T>): Promise<T | undefined> => {
      try {
        return await fn();
      } catch (error) {
        report.errors.push({ step, error });
        return undefined;
      }
    };
    await attempt('stopFetching', () => steps.stopFetching());
    report.drained = (await attempt('drain', () => steps.drain(options.drainTimeoutMs))) ?? false;
    const flushed = (await attempt('flush', async () => (await steps.flush(), true))) ?? false;
    if (flushed) report.committed = (await attempt('commit', async () => (await steps.commit(), true))) ?? false;
    await attempt('disconnect', () => steps.disconnect());
    return report;
  };
  return () => (running ??= run());
}
