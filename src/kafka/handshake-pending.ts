/**
 * kafkajs 2.x counts a broker as connected once its socket is open, but the broker can
 * only build requests after its ApiVersions handshake. A request that meets a broker in
 * between (a reconnect under load) throws a plain `Error('Broker not connected')` before
 * anything is sent. Being plain, kafkajs's metadata refresh bails on it instead of trying
 * again, so callers that must outlast a slow broker retry it themselves: nothing reached
 * the broker, so sending again cannot duplicate.
 */
const HANDSHAKE_PENDING = 'Broker not connected';

export function isHandshakePending(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e.message === HANDSHAKE_PENDING) return true;
  }
  return false;
}
