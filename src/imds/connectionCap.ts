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
  const awaitingRequest = new ArrivalQueue();
  let open = 0;

  // One shared listener rather than a closure per connection: `this` is the closed socket.
  function onClose(this: Socket): void {
    open -= 1;
    awaitingRequest.removeOld(this);
  }

  server.on('connection', (socket: Socket) => {
    if (open >= maxConnections) {
      const oldest = awaitingRequest.takeOldest();
      if (oldest === undefined) {
        socket.destroy();
        return;
      }
      oldest.destroy();
    }

    open += 1;
    awaitingRequest.add(socket);
    socket.on('close', onClose);
  });

  server.on('request', (request: IncomingMessage) => {
    awaitingRequest.removeRecent(request.socket);
  });

  return { awaitsRequest: (socket) => awaitingRequest.has(socket) };
}

/**
 * Sockets in arrival order, in a plain array rather than a Set. A Set that has held a socket
 * keeps it in the table it leaves behind when it grows or shrinks; once that table has moved
 * to the old generation, every socket in it survives young collections until the next full
 * one. Under load that promoted about 250 more bytes a request, and scavenges cost imdsd 2.3
 * times the ceiling's instructions (bench/instructions.ts). An array removes in place.
 *
 * The queue holds only connections that have not sent a request head yet: a handful in
 * normal use, so the linear searches are short. Under a flood of idle connections they grow
 * to the cap's length at most, microseconds paid only then; a caller's request comes from one
 * of the newest sockets and a closing idle socket is one of the oldest, so each search starts
 * at the end where its socket most likely is.
 */
class ArrivalQueue {
  private readonly sockets: Socket[] = [];

  add(socket: Socket): void {
    this.sockets.push(socket);
  }

  has(socket: Socket): boolean {
    return this.sockets.lastIndexOf(socket) !== -1;
  }

  takeOldest(): Socket | undefined {
    return this.sockets.shift();
  }

  /** Removes a socket that most likely arrived lately (a request head just came in on it). */
  removeRecent(socket: Socket): void {
    this.removeAt(this.sockets.lastIndexOf(socket));
  }

  /** Removes a socket that most likely arrived long ago (it closed without a request). */
  removeOld(socket: Socket): void {
    if (this.sockets.length > 0) this.removeAt(this.sockets.indexOf(socket));
  }

  private removeAt(index: number): void {
    if (index !== -1) this.sockets.splice(index, 1);
  }
}
