import type { Delivery } from '../credentials/roleCredentials.ts';
import type { EmulatedInstance } from '../instances/instance.ts';

/**
 * The IMDS category tree as data: directories list their children, leaves produce content.
 * A node may be hidden for the current request (tags off, no public IP); a hidden node is
 * neither listed nor reachable, so every listed entry is fetchable (cloud-init crawls the tree).
 */

export interface ContentOptions {
  contentType?: 'text/plain' | 'application/octet-stream';
  /** Real IMDS sends `none` on metadata and `bytes` on user data and signatures (reference §2). */
  acceptRanges?: 'none' | 'bytes';
  lastModified?: Date;
}

export interface Content extends ContentOptions {
  body: string | Buffer;
}

export interface MetadataRequest {
  instance: EmulatedInstance;
  delivery: Delivery;
  nowMs: number;
}

export interface LeafNode {
  kind: 'leaf';
  content: (request: MetadataRequest) => Content | Promise<Content>;
  visible?: (request: MetadataRequest) => boolean;
}

export interface DirectoryNode {
  kind: 'directory';
  children: ReadonlyMap<string, MetadataNode>;
  /** Irregular listings (`/`, `/latest/`, `public-keys/`) replace the default rendering. */
  listing?: (request: MetadataRequest) => string[];
  visible?: (request: MetadataRequest) => boolean;
}

export type MetadataNode = LeafNode | DirectoryNode;

export function leaf(value: string | Buffer, options: ContentOptions = {}): LeafNode {
  const content: Content = { body: value, ...options };
  return { kind: 'leaf', content: () => content };
}

export function dynamicLeaf(content: LeafNode['content'], visible?: LeafNode['visible']): LeafNode {
  return visible === undefined ? { kind: 'leaf', content } : { kind: 'leaf', content, visible };
}

/** A directory from an object of children; entries left undefined are not part of it. */
export function directory(
  children: Record<string, MetadataNode | undefined>,
  extra: Pick<DirectoryNode, 'listing' | 'visible'> = {},
): DirectoryNode {
  const present = Object.entries(children).filter(
    (entry): entry is [string, MetadataNode] => entry[1] !== undefined,
  );
  return { kind: 'directory', children: new Map(present), ...extra };
}

export function isVisible(node: MetadataNode, request: MetadataRequest): boolean {
  return node.visible === undefined || node.visible(request);
}

/** Children joined by LF, directories with a trailing slash, no final LF (reference §6.2). */
export function renderListing(node: DirectoryNode, request: MetadataRequest): string {
  if (node.listing !== undefined) return node.listing(request).join('\n');

  const names: string[] = [];
  for (const [name, child] of node.children) {
    if (isVisible(child, request)) names.push(child.kind === 'directory' ? `${name}/` : name);
  }
  return names.join('\n');
}

/** The node at `segments` below `root`, or undefined (a 404). */
export function findNode(
  root: MetadataNode,
  segments: readonly string[],
  request: MetadataRequest,
): MetadataNode | undefined {
  let node: MetadataNode = root;
  for (const segment of segments) {
    if (node.kind !== 'directory') return undefined;
    const child = node.children.get(segment);
    if (child === undefined || !isVisible(child, request)) return undefined;
    node = child;
  }
  return node;
}
