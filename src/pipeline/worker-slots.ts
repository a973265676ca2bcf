/**
 * The engine's free worker slots, shared by `batch` (takes a slot per batch it emits)
 * and `generate` (gives it back when the batch is done). With one slot per engine
 * worker, a new batch is formed only when a worker can start it at once, so tasks keep
 * queueing (and batches keep growing) while every worker is busy.
 */
import { Observable, Subject } from 'rxjs';
import { TeacherlmError } from '../errors.js';

export class WorkerSlots {
  private free: number;
  private readonly releases = new Subject<void>();

  constructor(readonly size: number) {
    this.free = size;
  }

  get available(): number {
    return this.free;
  }

  /** Takes a slot if one is free. */
  tryAcquire(): boolean {
    if (this.free === 0) return false;
    this.free--;
    return true;
  }

  /** Gives a slot back and tells the batcher. */
  release(): void {
    if (this.free >= this.size) throw new TeacherlmError('INTERNAL', 'WorkerSlots: released more slots than acquired');
    this.free++;
    this.releases.next();
  }

  /** Emits after each release. */
  get released$(): Observable<void> {
    return this.releases.asObservable();
  }
}
