import type { ServerResponse } from 'node:http';
import type { Content } from './metadataNode.ts';

/**
 * Exact response shapes of the real service (reference §0, §1, §2, §6.4). Headers are written
 * as one ordered list so the bytes on the wire are the same on every response: `Server: EC2ws`,
 * `Connection: close`, and the token TTL echo where a token was involved.
 */

export const TOKEN_TTL_HEADER = 'X-Aws-Ec2-Metadata-Token-Ttl-Seconds';

/** The 404 page real IMDS sends (captures I10, I11, I26), byte for byte. */
const NOT_FOUND_BODY = xhtmlErrorPage('404 - Not Found');

/** Bodies of 400 and 401 are not captured anywhere (UNCONFIRMED); the 404 page's shape is used. */
const BAD_REQUEST_BODY = xhtmlErrorPage('400 - Bad Request');
const UNAUTHORIZED_BODY = xhtmlErrorPage('401 - Unauthorized');

function xhtmlErrorPage(title: string): Buffer {
  return Buffer.from(
    [
      '<?xml version="1.0" encoding="iso-8859-1"?>',
      '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"',
      '         "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
      '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">',
      ' <head>',
      `  <title>${title}</title>`,
      ' </head>',
      ' <body>',
      `  <h1>${title}</h1>`,
      ' </body>',
      '</html>',
      '',
    ].join('\n'),
    'latin1',
  );
}

let cachedDate = '';
let cachedDateSecond = -1;

/** The Date header, formatted once a second rather than once a response. */
function httpDate(nowMs: number): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== cachedDateSecond) {
    cachedDateSecond = second;
    cachedDate = new Date(second * 1000).toUTCString();
  }
  return cachedDate;
}

/** Last-Modified texts: leaves share a few dates (launch time, credential rotations). */
const lastModifiedTexts = new Map<number, string>();
const LAST_MODIFIED_TEXTS_KEPT = 16;

function httpLastModified(date: Date): string {
  const ms = date.getTime();
  let text = lastModifiedTexts.get(ms);
  if (text === undefined) {
    if (lastModifiedTexts.size >= LAST_MODIFIED_TEXTS_KEPT) lastModifiedTexts.clear();
    text = date.toUTCString();
    lastModifiedTexts.set(ms, text);
  }
  return text;
}

type HeaderList = string[];

function send(
  response: ServerResponse,
  status: number,
  leading: HeaderList,
  contentType: string,
  body: Buffer | string,
  head: boolean,
  nowMs: number,
): void {
  // A string body is measured, not copied: node writes it with the head in one piece.
  const length = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
  response.sendDate = false;
  leading.push(
    'Content-Type',
    contentType,
    'Content-Length',
    String(length),
    'Date',
    httpDate(nowMs),
    'Server',
    'EC2ws',
    'Connection',
    'close',
  );
  response.writeHead(status, leading);
  if (head) response.end();
  else response.end(body, 'utf8');
}

export function sendToken(
  response: ServerResponse,
  token: string,
  ttlSeconds: number,
  nowMs: number,
): void {
  send(response, 200, [TOKEN_TTL_HEADER, String(ttlSeconds)], 'text/plain', token, false, nowMs);
}

export function sendContent(
  response: ServerResponse,
  content: Content,
  tokenTtlSeconds: number | undefined,
  head: boolean,
  nowMs: number,
): void {
  const leading: HeaderList =
    tokenTtlSeconds === undefined ? [] : [TOKEN_TTL_HEADER, String(tokenTtlSeconds)];
  leading.push('Accept-Ranges', content.acceptRanges ?? 'none');
  if (content.lastModified !== undefined)
    leading.push('Last-Modified', httpLastModified(content.lastModified));
  send(response, 200, leading, content.contentType ?? 'text/plain', content.body, head, nowMs);
}

export function sendNotFound(response: ServerResponse, head: boolean, nowMs: number): void {
  send(response, 404, [], 'text/html', NOT_FOUND_BODY, head, nowMs);
}

export function sendBadRequest(response: ServerResponse, head: boolean, nowMs: number): void {
  send(response, 400, [], 'text/html', BAD_REQUEST_BODY, head, nowMs);
}

export function sendUnauthorized(response: ServerResponse, head: boolean, nowMs: number): void {
  send(response, 401, [], 'text/html', UNAUTHORIZED_BODY, head, nowMs);
}

/** 403 with an empty body: IMDS turned off, X-Forwarded-For with IMDSv2, versioned token path. */
export function sendForbidden(response: ServerResponse, nowMs: number): void {
  send(response, 403, [], 'text/plain', '', false, nowMs);
}

export function sendMethodNotAllowed(response: ServerResponse, allow: string, nowMs: number): void {
  send(response, 405, ['Allow', allow], 'text/plain', '', false, nowMs);
}

/** `OPTIONS /latest/api/token` (capture C8). */
export function sendOptions(response: ServerResponse, allow: string, nowMs: number): void {
  send(response, 200, ['Allow', allow], 'text/plain', '', false, nowMs);
}

/** A defect: a bare 500 that shows nothing of the cause (the log line has it). */
export function sendInternalError(response: ServerResponse, nowMs: number): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  send(response, 500, [], 'text/plain', '', false, nowMs);
}
