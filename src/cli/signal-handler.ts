/**
 * A signal handler: the first signal starts `shutdown`, a second one forces exit.
 *
 * @example
 * const onSignal = signalHandler({ shutdown: () => handle.stop('SIGINT'), forceExit: () => process.exit(130) });
 * process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
 */
export function signalHandler(actions: { shutdown: (signal: string) => unknown; forceExit: (signal: string) => void }): (signal: string) => void {
  let received = 0;
  return (signal: string) => {
    received++;
    if (received === 1) void actions.shutdown(signal);
    else actions.forceExit(signal);
  };
}
