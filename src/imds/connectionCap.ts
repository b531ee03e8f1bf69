import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Caps the connections one listener holds open. At the cap, a new connection takes the place
 * of the oldest connection that has not yet sent a whole request head: an idle or slow client,
 * since every SDK writes its request the moment it connects. So a flood of idle connections
 * cannot lock callers out, and memory and descriptors stay bounded. When every open connection
 * is inside a request, the new connection is refused (closed at once).
 *
 * node's own `server.maxConnections` only refuses new connections, which lets idle ones hold
 * the listener until the head deadline reaps them; it is left unset.
 */
export interface ConnectionCap {
  /** True while `socket` is open and has not yet handed a request head to the front. */
  awaitsRequest(socket: Socket): boolean;
}

export function capConnections(server: Server, maxConnections: number): ConnectionCap {
  // Insertion order is arrival order: the first entry is the longest-waiting connection.
  const awaitingRequest = new Set<Socket>();
  let open = 0;

  // One shared listener rather than a closure per connection: `this` is the closed socket.
  function onClose(this: Socket): void {
    open -= 1;
    awaitingRequest.delete(this);
  }

  server.on('connection', (socket: Socket) => {
    if (open >= maxConnections) {
      const oldest = awaitingRequest.values().next().value;
      if (oldest === undefined) {
        socket.destroy();
        return;
      }
      awaitingRequest.delete(oldest);
      oldest.destroy();
    }

    open += 1;
    awaitingRequest.add(socket);
    socket.on('close', onClose);
  });

  server.on('request', (request: IncomingMessage) => {
    awaitingRequest.delete(request.socket);
  });

  return { awaitsRequest: (socket) => awaitingRequest.has(socket) };
}
