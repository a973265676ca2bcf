/** The suite's own broker (never the shared one), which a scenario may SIGKILL and start again. */
import { startLocalBroker, stopLocalBroker } from '../../../src/kafka/local/broker.js';

export class ChaosBroker {
  private pid: number | undefined;
  private startedHere = false;
  constructor(readonly port: number) {}

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Fresh storage: no topics or offsets from an earlier run. */
  async start(log: (line: string) => void = () => {}): Promise<void> {
    const b = await startLocalBroker({ port: this.port, fresh: true, log });
    if (!b.startedHere) throw new Error(`a broker was already running on ${this.bootstrap}: the chaos suite needs its own (stop it with teacherlm kafka stop --port ${this.port})`);
    this.pid = b.pid;
    this.startedHere = true;
  }

  /** SIGKILL: no shutdown, no flush, as a crashed machine. */
  kill(): void {
    if (this.pid !== undefined) process.kill(this.pid, 'SIGKILL');
    this.pid = undefined;
  }

  /** Starts it again on its existing storage; resolves once it answers metadata requests. */
  async restart(): Promise<void> {
    const b = await startLocalBroker({ port: this.port });
    this.pid = b.pid;
  }

  async stop(): Promise<void> {
    if (this.startedHere) await stopLocalBroker({ port: this.port });
  }
}
