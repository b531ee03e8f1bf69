// The ceiling of the benchmark: a bare node:http server that answers each request with the
// status, headers and body recorded from imdsd for that method and path, with no logic at all.
// Whatever imdsd does beyond this costs throughput; this is as fast as node:http goes here.
// Plain JavaScript so that it runs on bare node, with no TypeScript loader in its memory.
// Usage: node bench/ceilingServer.mjs RECORDED.json   (prints "listening PORT")
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const recorded = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const responses = new Map(
  recorded.map((entry) => [
    `${entry.method} ${entry.path}`,
    { status: entry.status, headers: entry.headers, body: Buffer.from(entry.body, 'base64') },
  ]),
);

const server = createServer({ keepAlive: false }, (request, response) => {
  const answer = responses.get(`${request.method} ${request.url}`);
  if (answer === undefined) {
    response.writeHead(404, ['Content-Length', '0', 'Connection', 'close']);
    response.end();
    return;
  }
  // node:http adds the Date header itself, as long as imdsd's.
  response.writeHead(answer.status, answer.headers);
  response.end(answer.body);
});

server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
