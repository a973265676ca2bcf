/**
 * `lingerBuffer`: groups values into arrays of up to `maxItems`, emitting a partial one
 * `lingerMs` after its first value arrived (Kafka's `linger.ms`). Unlike rxjs
 * `bufferTime`, whose period ticks forever, a timer exists only while values wait, so
 * an idle pipeline does not wake up 200 times a second. Completion flushes what is left;
 * an error drops it (nothing after a failure may be acknowledged).
 */
import { Observable, type OperatorFunction, type SchedulerLike, type Subscription, asyncScheduler } from 'rxjs';

/**
 * @example
 * // maxItems 2, lingerMs 10
 * // a b c ---------- d
 * // [a,b] (10ms) [c] ... (10ms) [d]
 */
export function lingerBuffer<T>(lingerMs: number, maxItems: number, scheduler: SchedulerLike = asyncScheduler): OperatorFunction<T, T[]> {
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let buffer: T[] = [];
      let timer: Subscription | undefined;
      const flush = (): void => {
        timer?.unsubscribe();
        timer = undefined;
        if (buffer.length === 0) return;
        const full = buffer;
        buffer = [];
        subscriber.next(full);
      };
      const upstream = source.subscribe({
        next: (value) => {
          buffer.push(value);
          if (buffer.length >= maxItems) flush();
          else timer ??= scheduler.schedule(flush, lingerMs);
        },
        error: (err: unknown) => {
          timer?.unsubscribe();
          buffer = [];
          subscriber.error(err);
        },
        complete: () => {
          flush();
          subscriber.complete();
        },
      });
      return () => {
        timer?.unsubscribe();
        upstream.unsubscribe();
      };
    });
}
