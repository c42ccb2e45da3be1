/**
 * The document model of the bench's own servers (the bare uWS ceiling, the ws and Socket.IO peers):
 * one seq counter per process (like one log partition), merge-patch folding, and the delta /
 * snapshot frames byte-identical in shape to Replicant's (`encodeServerJson`, protocol/src/json-codec.ts).
 * In memory, no log: these servers are the yardsticks, not the product. Docs are created on first
 * use; the bench uses a handful.
 */
import { applyMergePatch } from '@replicant/protocol';

export type Json = { [k: string]: unknown };

export const DOC_ID = /^[A-Za-z0-9][A-Za-z0-9._:~-]{0,255}$/;

/** The same bytes as protocol's encodeServerJson for a delta (doc ids need no escaping). */
export function deltaFrame(doc: string, seq: bigint, prevSeq: bigint, patchJson: string): string {
  return `{"type":"delta","doc":"${doc}","seq":"${seq}","prevSeq":"${prevSeq}","patch":${patchJson}}`;
}
export function snapshotFrame(doc: string, seq: bigint, stateJson: string): string {
  return `{"type":"snapshot","doc":"${doc}","seq":"${seq}","state":${stateJson}}`;
}

export interface DocState {
  seq: bigint;
  state: Json;
}

/** Docs of one server process, sharing one seq counter. */
export class DocStore {
  private readonly docs = new Map<string, DocState>();
  private lastSeq = 0n;
  writes = 0;

  get(id: string): DocState {
    let d = this.docs.get(id);
    if (d === undefined) {
      d = { seq: 0n, state: {} };
      this.docs.set(id, d);
    }
    return d;
  }

  peek(id: string): DocState | undefined {
    return this.docs.get(id);
  }

  /** folds `patch` into `doc`; returns the doc's previous and new seq */
  write(doc: string, patch: Json): { prevSeq: bigint; seq: bigint } {
    const d = this.get(doc);
    const prevSeq = d.seq;
    const seq = ++this.lastSeq;
    d.seq = seq;
    applyMergePatch(d.state, patch);
    this.writes++;
    return { prevSeq, seq };
  }
}
