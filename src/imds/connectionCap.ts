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
 * the listener until the header deadline reaps them; it is left unset.
 */
export function capConnections(server: Server, maxConnections: number): void {
  // Insertion order is arrival order: the first entry is the longest-waiting connection.
  const awaitingRequest = new Set<Socket>();
  let open = 0;

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
    socket.once('close', () => {
      open -= 1;
      awaitingRequest.delete(socket);
    });
  });

  server.on('request', (request: IncomingMessage) => {
    awaitingRequest.delete(request.socket);
  });
}
