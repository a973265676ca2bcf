import { describe, expect, it } from 'vitest';
import { signalHandler } from '../../src/cli/signal-handler.js';

describe('signalHandler', () => {
  it('shuts down on the first signal and forces exit on the second', () => {
    const seen: string[] = [];
    const onSignal = signalHandler({ shutdown: (s) => seen.push(`shutdown ${s}`), forceExit: (s) => seen.push(`exit ${s}`) });
    onSignal('SIGINT');
    expect(seen).toEqual(['shutdown SIGINT']);
    onSignal('SIGTERM');
    expect(seen).toEqual(['shutdown SIGINT', 'exit SIGTERM']);
  });
});
