/**
 * Admin changes that caches on the visitor path must hear about (a rotated key must stop working at once,
 * a deleted queue must stop taking joins). In one process a listener set suffices; with several processes
 * the production wiring also fans these out between processes.
 */
export interface ChangeEvents {
  applicationChanged(id: string): void;
  queueChanged(id: string): void;
  /** The admission signing keys were rotated. */
  keysChanged(): void;
}

export type ChangeListener = (change: { kind: "application" | "queue" | "keys"; id: string }) => void;

export class LocalChangeEvents implements ChangeEvents {
  private readonly listeners = new Set<ChangeListener>();

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  applicationChanged(id: string): void {
    for (const listener of this.listeners) listener({ kind: "application", id });
  }

  queueChanged(id: string): void {
    for (const listener of this.listeners) listener({ kind: "queue", id });
  }

  keysChanged(): void {
    for (const listener of this.listeners) listener({ kind: "keys", id: "" });
  }
}
